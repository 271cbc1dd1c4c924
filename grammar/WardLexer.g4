// Ward lexer. Generated into the build tree at build time (never committed).
// Keywords are lower-case; Sentinel column names are CamelCase, and every place
// that takes a name also accepts a keyword (see `name` in WardParser.g4).
lexer grammar WardLexer;

// ---- keywords ----
IMPORT    : 'import';
TABLE     : 'table';
CONST     : 'const';
LIST      : 'list';
FILE      : 'file';
RULE      : 'rule';
META      : 'meta';
EVENTS    : 'events';
CONDITION : 'condition';
OUTCOME   : 'outcome';
ENTITIES  : 'entities';
SCHEDULE  : 'schedule';
EVERY     : 'every';
OVER      : 'over';
NRT       : 'nrt';
SUPPRESS  : 'suppress';
FOR       : 'for';
TEST      : 'test';
SCENARIO  : 'scenario';
TRACE     : 'trace';
EXPECT    : 'expect';
WHERE     : 'where';
BY        : 'by';
WITHIN    : 'within';
BEFORE    : 'before';
AFTER     : 'after';
SEQUENCE  : 'sequence';
THEN      : 'then';
AND       : 'and';
OR        : 'or';
NOT       : 'not';
TRUE      : 'true';
FALSE     : 'false';
IN        : 'in';
IN_CI     : 'in~';
NOT_IN    : '!in';
NOT_IN_CI : '!in~';
CONTAINS      : 'contains';
NOT_CONTAINS  : '!contains';
STARTSWITH    : 'startswith';
NOT_STARTSWITH: '!startswith';
ENDSWITH      : 'endswith';
NOT_ENDSWITH  : '!endswith';
HAS           : 'has';
NOT_HAS       : '!has';
MATCHES       : 'matches';
REGEX         : 'regex';
CIDR          : 'cidr';

// ---- punctuation and operators ----
LBRACE : '{';
RBRACE : '}';
LPAREN : '(';
RPAREN : ')';
LBRACK : '[';
RBRACK : ']';
COMMA  : ',';
COLON  : ':';
DOT    : '.';
EQ     : '==';
NEQ    : '!=';
EQ_CI  : '=~';
NEQ_CI : '!~';
LE     : '<=';
GE     : '>=';
LT     : '<';
GT     : '>';
ASSIGN : '=';
PLUS   : '+';
MINUS  : '-';
STAR   : '*';
SLASH  : '/';
PERCENT: '%';

// ---- literals ----
// Longest match decides between overlapping shapes: `2023-05-15` is a DATETIME,
// not INT MINUS INT; `10.0.0.0/8` is a CIDR; `5m` a DURATION; a GUID beats an IDENT.
DATETIME  : DIGIT4 '-' DIGIT2 '-' DIGIT2 ('T' DIGIT2 ':' DIGIT2 (':' DIGIT2 ('.' DIGIT+)?)? ('Z' | [+-] DIGIT2 ':' DIGIT2)?)?;
GUID      : HEX8 '-' HEX4 '-' HEX4 '-' HEX4 '-' HEX4 HEX8;
IPV4_CIDR : IPV4_ADDR '/' DIGIT+;
IPV4      : IPV4_ADDR;
// IPv6 needs `::` or seven colons so that `Name:type` can never lex as an address.
IPV6_CIDR : IPV6_ADDR '/' DIGIT+;
IPV6      : IPV6_ADDR;
TECHNIQUE : 'T' DIGIT DIGIT DIGIT DIGIT ('.' DIGIT DIGIT DIGIT)?;
DURATION  : DIGIT+ ('.' DIGIT+)? ('ms' | 's' | 'm' | 'h' | 'd');
REAL      : DIGIT+ '.' DIGIT+ ([eE] [+-]? DIGIT+)? | DIGIT+ [eE] [+-]? DIGIT+;
INT       : DIGIT+;
STRING    : '"' (~["\\\r\n] | '\\' ~[\r\n])* '"';
RAW_STRING: 'r"' ~["\r\n]* '"';
VAR       : '$' [A-Za-z_] [A-Za-z0-9_]*;
IDENT     : [A-Za-z_] [A-Za-z0-9_]*;

// ---- trivia ----
WS            : [ \t\r\n\f]+ -> channel(HIDDEN);
LINE_COMMENT  : '//' ~[\r\n]* -> channel(HIDDEN);
BLOCK_COMMENT : '/*' .*? '*/' -> channel(HIDDEN);

// ---- error tokens: turned into precise diagnostics by the AST builder ----
UNTERMINATED_STRING  : '"' (~["\\\r\n] | '\\' ~[\r\n])* ('\\')?;
// No `*/` anywhere after the `/*` (a `.*? EOF` would outrun every closed comment: the
// lexer takes the longest match, and non-greedy loops are non-greedy only within a rule).
UNTERMINATED_COMMENT : '/*' (~'*' | '*'+ ~[*/])* '*'* EOF;
ERROR_CHAR           : .;

fragment DIGIT  : [0-9];
fragment DIGIT2 : DIGIT DIGIT;
fragment DIGIT4 : DIGIT DIGIT DIGIT DIGIT;
fragment HEX    : [0-9a-fA-F];
fragment HEX4   : HEX HEX HEX HEX;
fragment HEX8   : HEX4 HEX4;
fragment IPV4_ADDR : DIGIT+ '.' DIGIT+ '.' DIGIT+ '.' DIGIT+;
fragment H16    : HEX HEX? HEX? HEX?;
fragment IPV6_ADDR
    : (H16 ':') (H16 ':') (H16 ':') (H16 ':') (H16 ':') (H16 ':') (H16 ':') H16
    | (H16 (':' H16)*)? '::' (H16 (':' H16)*)? ('.' DIGIT+ '.' DIGIT+ '.' DIGIT+)?
    ;
