// axe-core injected into the page: no serious or critical violation is allowed.
import { createRequire } from "node:module";
import { check, step } from "./control.mjs";

const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

/** Audit the page as it is now; fail on a serious or critical violation, naming each. */
export async function audit(page, name) {
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
    }));
  });
  const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  for (const v of violations) step(`axe ${name}: ${v.impact} ${v.id} (${v.help}) at ${v.targets.join(", ")}`);
  check(bad.length === 0, `${name}: ${bad.length} serious or critical accessibility violations: ${bad.map((v) => v.id).join(", ")}`);
}
