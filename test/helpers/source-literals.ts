// The string literals of our C++ and TypeScript sources, comments left out: what the names test
// searches for GGUF names spelled outside the table.
import ts from 'typescript';

/** C/C++: "..." literals; comments, character literals and preprocessor lines skipped. */
export function cppStringLiterals(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  const lineStart = (at: number) => /^\s*$/.test(text.slice(text.lastIndexOf('\n', at - 1) + 1, at));
  const skipTo = (end: string, from: number) => {
    const at = text.indexOf(end, from);
    return at < 0 ? text.length : at + end.length;
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === '/' && text[i + 1] === '/') {
      i = skipTo('\n', i);
    } else if (c === '/' && text[i + 1] === '*') {
      i = skipTo('*/', i + 2);
    } else if (c === '#' && lineStart(i)) {
      i = skipTo('\n', i);
    } else if (c === '"' || (c === "'" && !/[0-9A-Za-z_]/.test(text[i - 1] ?? ''))) {
      let j = i + 1;
      let value = '';
      while (j < text.length && text[j] !== c) {
        if (text[j] === '\\') value += text[j++];
        value += text[j++];
      }
      if (c === '"') out.push(value);
      i = j + 1;
    } else {
      i++;
    }
  }
  return out;
}

/** TypeScript: string literals and the literal parts of template strings, parsed by tsc. */
export function tsStringLiterals(text: string, fileName: string): string[] {
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
      out.push(node.text);
    } else if (ts.isTemplateExpression(node)) {
      out.push(node.head.text, ...node.templateSpans.map((span) => span.literal.text));
    }
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false));
  return out;
}
