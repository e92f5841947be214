// Copies the compiled GOV.UK Frontend and MoJ Frontend files into static/vendor,
// pointing their asset URLs at the paths Django serves the packages' assets from.
import { mkdirSync, readFileSync, writeFileSync, copyFileSync } from "node:fs";

const out = "static/vendor";
mkdirSync(out, { recursive: true });

const packages = [
  { name: "govuk", dir: "node_modules/govuk-frontend/dist/govuk", css: "govuk-frontend.min.css", js: "govuk-frontend.min.js" },
  { name: "moj", dir: "node_modules/@ministryofjustice/frontend/moj", css: "moj-frontend.min.css", js: "moj-frontend.min.js" },
];

for (const pkg of packages) {
  const css = readFileSync(`${pkg.dir}/${pkg.css}`, "utf8").replaceAll("url(/assets/", `url(/static/${pkg.name}/assets/`);
  writeFileSync(`${out}/${pkg.css}`, css.replace(/\/\*# sourceMappingURL=.*?\*\//g, ""));
  copyFileSync(`${pkg.dir}/${pkg.js}`, `${out}/${pkg.js}`);
}
console.log(`front-end assets written to ${out}`);
