// The execution page's graph and timeline against the real stack, for every example flow:
// one data-node-id per node and the flow's edges, statuses changing live, the retry example's
// badge and both attempts on the timeline, surviving a reload; axe-core on every page and
// screenshots of each page at 1400 px and 390 px wide.
// Run by tests/web/test_browser.py, which passes BASE_URL, TOKEN, ARTIFACTS, EXPECTED (each
// example's nodes and edges, from the flow files) and RETRY_URL (fails once, then answers).
import { audit } from "./a11y.mjs";
import { launch } from "./browser.mjs";
import { check, done, step } from "./control.mjs";
import { BASE_URL, executionStatus, nodeStatus, signedInPage, startFlow, TIMEOUT, ARTIFACTS } from "./helpers.mjs";

const EXPECTED = JSON.parse(process.env.EXPECTED);
const INPUTS = {
  approval: { amount: 250, requester: "ada" },
  parallel: { topic: "realtime events" },
  retry: { url: process.env.RETRY_URL },
  agent_approval: { order_total: 1200 },
};
const WIDTHS = { wide: 1400, phone: 390 };

/** Screenshots of the page at both widths, then back to the wide one. */
async function shots(page, name) {
  for (const [label, width] of Object.entries(WIDTHS)) {
    await page.setViewportSize({ width, height: 900 });
    await page.waitForTimeout(150); // one layout pass after the resize (the graph re-lays out)
    await page.screenshot({ path: `${ARTIFACTS}/${name}-${label}.png`, fullPage: true });
  }
  await page.setViewportSize({ width: WIDTHS.wide, height: 900 });
}

async function page_(context, name, path, ready) {
  const page = await signedInPage(context);
  await page.goto(`${BASE_URL}/${path}`);
  await ready(page);
  await audit(page, name);
  await shots(page, name);
  return page;
}

async function checkGraph(page, flow) {
  const want = EXPECTED[flow];
  await page.locator("[data-node-id]").first().waitFor({ timeout: TIMEOUT });
  const ids = await page.locator("[data-node-id]").evaluateAll((els) => els.map((e) => e.getAttribute("data-node-id")));
  check(JSON.stringify([...ids].sort()) === JSON.stringify([...want.nodes].sort()), `${flow}: nodes ${ids} want ${want.nodes}`);
  check(new Set(ids).size === ids.length, `${flow}: one element per node`);
  const edges = await page.locator("[data-edge]").evaluateAll((els) => els.map((e) => e.getAttribute("data-edge")));
  check(JSON.stringify([...edges].sort()) === JSON.stringify([...want.edges].sort()), `${flow}: edges ${edges} want ${want.edges}`);
}

const browser = await launch();
try {
  const context = await browser.newContext({ viewport: { width: WIDTHS.wide, height: 900 } });

  step("sign-in page");
  const signIn = await browser.newPage({ viewport: { width: WIDTHS.wide, height: 900 } });
  await signIn.goto(`${BASE_URL}/`);
  await signIn.getByTestId("token").waitFor({ timeout: TIMEOUT });
  await audit(signIn, "sign-in");
  await shots(signIn, "20-sign-in");
  await signIn.close();

  step("approval: the graph, the branch not taken greyed, statuses change live");
  const page = await signedInPage(context);
  const approval = await startFlow(page, "approval", INPUTS.approval);
  await checkGraph(page, "approval");
  await nodeStatus(page, "check", "completed");
  await nodeStatus(page, "auto_approve", "skipped");
  await nodeStatus(page, "approve", "waiting");
  await nodeStatus(page, "decide", "pending");
  await page.getByTestId("countdown").waitFor({ timeout: TIMEOUT });
  const deadline = await page.getByTestId("deadline").textContent();
  check(/\d{4}/.test(deadline) && /in \d+ h/.test(deadline), `the deadline has a date, a time and a countdown: ${deadline}`);
  await page.getByTestId("wait-approve").waitFor({ timeout: TIMEOUT });
  await audit(page, "execution-waiting");
  await shots(page, "21-execution-waiting");

  step("an empty answer is refused in plain words");
  await page.getByTestId("prompt-submit").click();
  await page.getByTestId("prompt-field-error").waitFor({ timeout: TIMEOUT });
  const plain = await page.getByTestId("prompt-field-error").textContent();
  check(plain === "Choose Yes or No.", `the refusal says what to do: ${plain}`);
  await audit(page, "execution-invalid-answer");
  await shots(page, "22-execution-invalid-answer");
  await page.getByTestId("prompt-field-yes").check();
  await page.getByTestId("prompt-submit").click();
  await nodeStatus(page, "decide", "completed");
  await executionStatus(page, "completed");
  const counts = await page.getByTestId("node-counts").textContent();
  check(counts.startsWith("3 of 4 nodes done, 1 skipped"), `counts at completion: ${counts}`);
  await nodeStatus(page, "auto_approve", "skipped");
  check((await page.locator('[data-edge="check->auto_approve"].edge-skipped').count()) === 1, "the skipped edge is greyed");

  step("parallel: every branch and the join");
  await startFlow(page, "parallel", INPUTS.parallel);
  await checkGraph(page, "parallel");
  await executionStatus(page, "completed");
  for (const id of EXPECTED.parallel.nodes) await nodeStatus(page, id, "completed");
  await shots(page, "23-execution-parallel");

  step("retry: a retry badge, both attempts and the backoff on the timeline, after a reload too");
  const retry = await startFlow(page, "retry", INPUTS.retry);
  await checkGraph(page, "retry");
  await page.getByTestId("retry-badge-fetch").waitFor({ timeout: TIMEOUT });
  await executionStatus(page, "completed");
  for (let round = 0; round < 2; round += 1) {
    await page.locator('[data-testid="attempt-fetch-1"][data-outcome="retrying"]').waitFor({ timeout: TIMEOUT });
    await page.locator('[data-testid="attempt-fetch-2"][data-outcome="completed"]').waitFor({ timeout: TIMEOUT });
    await page.getByTestId("backoff-fetch-1").waitFor({ timeout: TIMEOUT });
    check((await page.getByTestId("retry-badge-fetch").getAttribute("data-retries")) === "1", "one retry");
    if (round === 0) await page.reload();
  }
  step("clicking a node opens its attempts, inputs and outputs");
  await page.locator('[data-node-id="fetch"]').click();
  await page.getByTestId("node-details").waitFor({ timeout: TIMEOUT });
  check((await page.locator('[data-testid="node-attempts"] li').count()) === 2, "two attempts listed");
  check((await page.getByTestId("node-inputs").textContent()).includes(process.env.RETRY_URL), "the inputs show the URL");
  check((await page.getByTestId("node-outputs").textContent()).includes("200"), "the outputs show the status");
  await audit(page, "execution-retry");
  await shots(page, "24-execution-retry");

  step("agent approval: the graph of the agent flow");
  const agent = await startFlow(page, "agent_approval", INPUTS.agent_approval);
  await checkGraph(page, "agent_approval");
  await nodeStatus(page, "approve", "waiting");
  await audit(page, "execution-agent");
  await shots(page, "25-execution-agent");

  step("executions list: live and filtered");
  await page.goto(`${BASE_URL}/#/executions`);
  for (const id of [approval, retry, agent]) await page.getByRole("link", { name: id }).waitFor({ timeout: TIMEOUT });
  await page.getByTestId("filter-status").selectOption("waiting");
  await page.getByRole("link", { name: agent }).waitFor({ timeout: TIMEOUT });
  check((await page.getByRole("link", { name: retry }).count()) === 0, "the status filter hides completed ones");
  await page.getByTestId("filter-status").selectOption("");
  await page.getByTestId("filter-flow").selectOption("fetch-with-retries");
  check((await page.locator('[data-testid^="execution-row-"]').count()) === 1, "the flow filter keeps one");
  await page.getByTestId("filter-flow").selectOption("");
  await audit(page, "executions");
  await shots(page, "26-executions");

  step("knowledge bases: the list with counts, one opened by name, a missing one");
  await page_(context, "knowledge-bases", "#/knowledge-bases", (p) => p.getByTestId("knowledge-bases").waitFor({ timeout: TIMEOUT }));
  const kb = await page_(context, "knowledge-base", "#/knowledge-bases/shop-policies", (p) =>
    p.getByTestId("documents").waitFor({ timeout: TIMEOUT }),
  );
  await kb.close();
  await page_(context, "knowledge-base-missing", "#/knowledge-bases/no-such-kb", (p) =>
    p.getByTestId("kb-missing").waitFor({ timeout: TIMEOUT }),
  );
  const missing = await page_(context, "execution-missing", "#/executions/ex_nope", (p) =>
    p.getByTestId("execution-missing").waitFor({ timeout: TIMEOUT }),
  );
  check((await missing.getByTestId("connection").textContent()).trim() === "connected", "no sticky error on the connection badge");
  step("done");
} finally {
  await browser.close();
  done();
}
