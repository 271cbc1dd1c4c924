require("@kusto/language-service-next/bridge.min.js");
require("@kusto/language-service-next/Kusto.Language.Bridge.min.js");
const K = Kusto.Language;
const S = K.Symbols;
const t = new S.TableSymbol.$ctor7("OfficeActivity", "(TimeGenerated:datetime, Operation:string, UserId:string, ClientIP:string, OperationProperties:dynamic)", "desc");
const db = new S.DatabaseSymbol.ctor("db", [t]);
const g = K.GlobalState.Default.WithDatabase(db);
for (const q of ["OfficeActivity | where Operation == 'x' | project UserId, Foo", "let L = dynamic(['a']); OfficeActivity | where TimeGenerated > ago(1d) | where ClientIP in (L) | extend p = tostring(OperationProperties.MailAccessType)"]) {
  const code = K.KustoCode.ParseAndAnalyze(q, g);
  const d = Bridge.toArray(code.GetDiagnostics());
  console.log(d.map(x=>[x.Severity,x.Code,x.Message,x.Start,x.End]));
  const rs = code.ResultType; console.log(rs && rs.Display);
}
