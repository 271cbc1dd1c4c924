#!/usr/bin/env node
// Opens an HTML file in headless Chromium, takes a screenshot and checks it is not blank: many
// non-white pixels and distinct colours, and large areas in the coverage colours of the Graphviz
// SVGs (the campaign nodes; the CSS legend swatches alone are far too small to pass).
//   node html-screenshot.js REPORT.html OUT.png      (CHROMIUM=path overrides `chromium` on PATH)
// Fails (exit 1) when Chromium is missing: install it with scripts/install-deps.sh.
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const zlib = require("zlib");
const { spawnSync } = require("child_process");

function findChromium() {
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  for (const dir of (process.env.PATH || "").split(":")) {
    for (const n of ["chromium", "chromium-browser"]) {
      const p = path.join(dir, n);
      try { fs.accessSync(p, fs.constants.X_OK); return p; } catch (_) {}
    }
  }
  return null;
}

// A minimal PNG decoder: 8-bit greyscale, RGB, grey+alpha or RGBA, not interlaced (what Chromium writes).
function decodePng(buf) {
  if (buf.readUInt32BE(0) !== 0x89504e47) throw new Error("not a PNG");
  let at = 8, w = 0, h = 0, depth = 0, type = 0, interlace = 0;
  const idat = [];
  while (at < buf.length) {
    const len = buf.readUInt32BE(at), kind = buf.toString("latin1", at + 4, at + 8);
    const data = buf.subarray(at + 8, at + 8 + len);
    if (kind === "IHDR") { w = data.readUInt32BE(0); h = data.readUInt32BE(4); depth = data[8]; type = data[9]; interlace = data[12]; }
    else if (kind === "IDAT") idat.push(data);
    else if (kind === "IEND") break;
    at += 12 + len;
  }
  const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[type];
  if (depth !== 8 || !channels || interlace) throw new Error(`unsupported PNG: depth ${depth}, colour type ${type}, interlace ${interlace}`);
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = w * channels, out = Buffer.alloc(h * stride);
  for (let y = 0; y < h; y++) {
    const f = raw[y * (stride + 1)], src = y * (stride + 1) + 1, dst = y * stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? out[dst + x - channels] : 0, b = y ? out[dst - stride + x] : 0;
      const c = x >= channels && y ? out[dst - stride + x - channels] : 0, v = raw[src + x];
      let p;
      switch (f) {
        case 0: p = v; break;
        case 1: p = v + a; break;
        case 2: p = v + b; break;
        case 3: p = v + ((a + b) >> 1); break;
        case 4: { const q = a + b - c, pa = Math.abs(q - a), pb = Math.abs(q - b), pc = Math.abs(q - c);
                  p = v + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c); break; }
        default: throw new Error(`bad PNG filter ${f}`);
      }
      out[dst + x] = p & 255;
    }
  }
  const rgb = (i) => channels >= 3 ? [out[i], out[i + 1], out[i + 2]] : [out[i], out[i], out[i]];
  return { w, h, channels, out, rgb };
}

function main([html, png]) {
  if (!html || !png) { console.error("usage: html-screenshot.js REPORT.html OUT.png"); return 2; }
  const chromium = findChromium();
  if (!chromium) { console.error("FAIL: chromium not found (bash scripts/install-deps.sh installs it)"); return 1; }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "ward-chromium-"));
  fs.rmSync(png, { force: true });
  const r = spawnSync(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
    `--user-data-dir=${profile}`, `--screenshot=${path.resolve(png)}`, "--window-size=1200,1600",
    "file://" + path.resolve(html)], { encoding: "utf8", timeout: 120000 });
  fs.rmSync(profile, { recursive: true, force: true });
  if (r.error || !fs.existsSync(png)) {
    console.error(`FAIL: chromium wrote no screenshot (exit ${r.status}${r.error ? ", " + r.error.message : ""})\n${r.stderr}`);
    return 1;
  }
  const img = decodePng(fs.readFileSync(png));
  const colours = new Set();
  let nonWhite = 0, coverage = 0;
  // green, amber, red of simulator/report.cpp, with a little room for colour management
  const targets = [[0x66, 0xbd, 0x63], [0xfd, 0xae, 0x61], [0xf4, 0x6d, 0x43]];
  for (let i = 0; i < img.out.length; i += img.channels) {
    const [R, G, B] = img.rgb(i);
    colours.add((R << 16) | (G << 8) | B);
    if (R < 245 || G < 245 || B < 245) nonWhite++;
    if (targets.some(([r, g, b]) => Math.abs(R - r) <= 6 && Math.abs(G - g) <= 6 && Math.abs(B - b) <= 6)) coverage++;
  }
  const total = img.w * img.h, fails = [];
  if (img.w !== 1200 || img.h !== 1600) fails.push(`screenshot is ${img.w}x${img.h}, not 1200x1600`);
  if (nonWhite < total * 0.03) fails.push(`only ${nonWhite} of ${total} pixels are not white`);
  if (colours.size < 64) fails.push(`only ${colours.size} distinct colours`);
  if (coverage < 3000) fails.push(`only ${coverage} pixels in the coverage colours: the SVG graphs did not render`);
  console.log(`${png}: ${img.w}x${img.h}, ${colours.size} colours, ${(100 * nonWhite / total).toFixed(1)}% not white, ${coverage} coverage-coloured pixels`);
  for (const f of fails) console.error("FAIL: " + f);
  return fails.length ? 1 : 0;
}
process.exitCode = main(process.argv.slice(2));
