// Parses the SQL on stdin with node-sql-parser's Athena and Trino grammars
// (Athena engine version 3 is Trino) and prints what the Go test checks:
// the FROM, the WHERE restrictions and the GROUP BY, as JSON. A syntax
// error in either grammar exits 1 with the parser's message.
const path = require('path');
const root = path.resolve(__dirname, '..', '..', 'node_modules', 'node-sql-parser', 'build');
const sql = require('fs').readFileSync(0, 'utf8');
const out = {};
for (const dialect of ['athena', 'trino']) {
  const { Parser } = require(path.join(root, dialect));
  let ast;
  try {
    ast = new Parser().astify(sql, { database: dialect });
  } catch (e) {
    console.error(`${dialect}: ${e.message}`);
    process.exit(1);
  }
  if (Array.isArray(ast)) {
    console.error(`${dialect}: ${ast.length} statements, want 1`);
    process.exit(1);
  }
  const where = [];
  const walk = (e) => {
    if (!e) return;
    if (e.type === 'binary_expr' && e.operator === 'AND') { walk(e.left); walk(e.right); return; }
    const col = e.left && (e.left.column && (e.left.column.expr ? e.left.column.expr.value : e.left.column));
    const vals = e.right && e.right.value && Array.isArray(e.right.value) ? e.right.value.map((v) => v.value) : [];
    where.push({ column: col, operator: e.operator, values: vals });
  };
  walk(ast.where);
  const groupBy = ast.groupby ? (ast.groupby.columns || ast.groupby).length : 0;
  out[dialect] = {
    from: ast.from.map((f) => `${f.db}.${f.table}`),
    where,
    groupBy,
    columns: ast.columns.length,
  };
}
console.log(JSON.stringify(out));
