// Ward parser. Labelled alternatives map one-to-one onto the AST builder's
// functions in compiler/syntax/ast_builder.cpp; nothing else walks parse trees.
parser grammar WardParser;
options { tokenVocab = WardLexer; }

file        : item* EOF ;
item        : importDecl | tableDecl | constDecl | listDecl | ruleDecl ;

importDecl  : IMPORT (module=name | path=STRING) ;

tableDecl   : TABLE tableName=name doc=STRING? LBRACE columnDecl* RBRACE ;
columnDecl  : colName=name COLON colType=name doc=STRING? COMMA? ;

constDecl   : CONST constName=name (COLON constType=name)? ASSIGN expr ;

listDecl    : LIST listName=name COLON elemType=name ASSIGN listBody ;
listBody    : LBRACK (expr (COMMA expr)* COMMA?)? RBRACK      # inlineList
            | FILE LPAREN path=STRING RPAREN                 # fileList
            ;

ruleDecl    : RULE ruleName=name LBRACE ruleClause* RBRACE ;
ruleClause  : metaBlock | eventsBlock | conditionClause | outcomeBlock
            | entitiesBlock | scheduleClause | suppressClause | testDecl ;

metaBlock   : META LBRACE metaEntry* RBRACE ;
metaEntry   : key=name ASSIGN metaValue COMMA? ;
metaValue   : literal                                          # metaLiteral
            | name                                             # metaName
            | TECHNIQUE                                        # metaTechnique
            | LBRACK (metaValue (COMMA metaValue)* COMMA?)? RBRACK  # metaList
            ;

eventsBlock : EVENTS LBRACE eventDecl* RBRACE ;
eventDecl   : VAR ASSIGN table=name (WHERE expr)? ;

conditionClause : CONDITION correlation ;
correlation
            : SEQUENCE VAR (THEN VAR)+ byKeys? window?                 # sequenceCond
            | NOT VAR byKeys? window?                                  # bareAbsenceCond
            | VAR AND NOT VAR byKeys? window?                          # absenceCond
            | VAR AND VAR byKeys? window?                              # joinCond
            | agg=name LPAREN aggArg=expr RPAREN compareOp threshold=expr byKeys? window?  # thresholdCond
            | VAR                                                      # singleCond
            ;
byKeys      : BY keyGroup (COMMA keyGroup)* ;
keyGroup    : expr (ASSIGN expr)* ;
window      : WITHIN DURATION (dir=(BEFORE | AFTER) anchor=VAR?)? ;

outcomeBlock  : OUTCOME LBRACE outcomeField* RBRACE ;
outcomeField  : fieldName=name ASSIGN expr COMMA? ;

entitiesBlock : ENTITIES LBRACE entityMap* RBRACE ;
entityMap     : entityType=name LBRACE entityIdent* RBRACE ;
entityIdent   : identifier=name ASSIGN field=name COMMA? ;

scheduleClause: SCHEDULE EVERY freq=DURATION OVER period=DURATION   # scheduledSchedule
              | SCHEDULE NRT                                         # nrtSchedule
              ;
suppressClause: SUPPRESS FOR DURATION ;

testDecl    : TEST testName=STRING LBRACE testItem* RBRACE ;
testItem    : SCENARIO scenarioName=STRING (LBRACE metaEntry* RBRACE)?   # scenarioItem
            | TRACE path=STRING                                          # traceItem
            | EXPECT what=name compareOp? metaValue?                     # expectItem
            ;

// ---- expressions (alternatives listed from tightest to loosest) ----
expr
    : expr DOT name                                         # memberExpr
    | expr LBRACK expr RBRACK                               # indexExpr
    | MINUS expr                                            # negExpr
    | expr op=(STAR | SLASH | PERCENT) expr                 # mulExpr
    | expr op=(PLUS | MINUS) expr                           # addExpr
    | expr compareOp expr                                   # compareExpr
    | expr op=(CONTAINS | NOT_CONTAINS | STARTSWITH | NOT_STARTSWITH
              | ENDSWITH | NOT_ENDSWITH | HAS | NOT_HAS) expr  # stringExpr
    | expr MATCHES REGEX expr                               # regexExpr
    | expr op=(IN | NOT_IN) CIDR expr                       # cidrExpr
    | expr op=(IN | NOT_IN | IN_CI | NOT_IN_CI) expr        # inExpr
    | NOT expr                                              # notExpr
    | expr AND expr                                         # andExpr
    | expr OR expr                                          # orExpr
    | callee=name LPAREN (expr (COMMA expr)*)? RPAREN       # callExpr
    | LPAREN expr RPAREN                                    # parenExpr
    | LBRACK (expr (COMMA expr)* COMMA?)? RBRACK            # listExpr
    | VAR                                                   # varExpr
    | literal                                               # literalExpr
    | name                                                  # nameExpr
    ;

compareOp : EQ | NEQ | EQ_CI | NEQ_CI | LT | LE | GT | GE ;

literal
    : STRING | RAW_STRING | INT | REAL | DURATION | DATETIME
    | IPV4 | IPV4_CIDR | IPV6 | IPV6_CIDR | GUID | TRUE | FALSE
    ;

// Any keyword is usable where a name is expected (columns, dynamic keys, meta keys).
name
    : IDENT | TECHNIQUE
    | IMPORT | TABLE | CONST | LIST | FILE | RULE | META | EVENTS | CONDITION | OUTCOME
    | ENTITIES | SCHEDULE | EVERY | OVER | NRT | SUPPRESS | FOR | TEST | SCENARIO | TRACE
    | EXPECT | WHERE | BY | WITHIN | BEFORE | AFTER | SEQUENCE | THEN | IN | CONTAINS
    | STARTSWITH | ENDSWITH | HAS | MATCHES | REGEX | CIDR
    ;
