// Copies the front-end libraries the website serves from node_modules (installed by `npm ci`
// from package-lock.json) into static/vendor/, which is gitignored: no third-party code is
// committed. Each file keeps its licence beside it. Run by the Makefile's `frontend` target.
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const modules = join(root, "node_modules");
const vendor = join(root, "static", "vendor");

// [package, file inside the package, name under static/vendor/]
const FILES = [
  ["lightweight-charts", "dist/lightweight-charts.standalone.production.js", "lightweight-charts.js"],
  ["lightweight-charts", "LICENSE", "lightweight-charts.LICENSE.txt"],
  ["htmx.org", "dist/htmx.min.js", "htmx.min.js"],
  ["htmx.org", "LICENSE", "htmx.LICENSE.txt"],
];

rmSync(vendor, { recursive: true, force: true });
mkdirSync(vendor, { recursive: true });
const versions = {};
for (const [pkg, file, target] of FILES) {
  const source = join(modules, pkg, file);
  if (!existsSync(source)) {
    console.error(`vendor_static: ${source} is missing; run \`npm ci\` first`);
    process.exit(1);
  }
  copyFileSync(source, join(vendor, target));
  versions[pkg] = JSON.parse(readFileSync(join(modules, pkg, "package.json"), "utf8")).version;
}
console.log(
  `vendor_static: ${FILES.length} files into static/vendor (` +
    Object.entries(versions).map(([p, v]) => `${p} ${v}`).join(", ") +
    ")",
);
