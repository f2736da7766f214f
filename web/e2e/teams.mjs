// Teams in two browser contexts (docs/teams.md): alice (the requester) and carol (finance)
// of the workspace acme. alice's expense waits for finance and she may not answer it; carol
// finds it in her Inbox, answers, and alice's page completes.
// Run by tests/web/test_teams_browser.py, which passes BASE_URL, TOKEN (alice), TOKEN2
// (carol) and ARTIFACTS.
import { launch } from "./browser.mjs";
import { ask, check, done, step } from "./control.mjs";
import { BASE_URL, executionStatus, shot, TIMEOUT, TOKEN } from "./helpers.mjs";

const CAROL = process.env.TOKEN2;

async function signedIn(browser, token) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  await context.addInitScript((t) => localStorage.setItem("flowmaestro.token", t), token);
  const page = await context.newPage();
  page.on("pageerror", (err) => step(`page error: ${err.message}`));
  return page;
}

const browser = await launch();
try {
  const alice = await signedIn(browser, TOKEN);
  const carol = await signedIn(browser, CAROL);

  step("carol's Inbox is empty");
  await carol.goto(`${BASE_URL}/#/inbox`);
  await carol.getByTestId("inbox-empty").waitFor({ timeout: TIMEOUT });

  step("alice starts an expense assigned to finance; her page says whom it waits for");
  const { executionId } = await ask({ request: "start-expense" });
  await alice.goto(`${BASE_URL}/#/executions/${executionId}`);
  const waiting = alice.getByTestId("prompts-elsewhere").getByTestId("waiting-for");
  await waiting.waitFor({ timeout: TIMEOUT });
  check((await waiting.textContent()).includes("waiting for finance"), "alice sees 'waiting for finance'");
  check((await alice.getByTestId("prompts").count()) === 0, "alice (the requester) gets no form");
  await shot(alice, "40-teams-requester-waiting");

  step("the prompt arrives in carol's Inbox live; she opens it and answers");
  const item = carol.getByTestId("inbox-item");
  await item.waitFor({ timeout: TIMEOUT });
  await shot(carol, "41-teams-inbox");
  await item.getByRole("link").click();
  await carol.getByTestId("prompts").waitFor({ timeout: TIMEOUT });
  await carol
    .getByTestId("also-watching")
    .first()
    .filter({ hasText: "alice" })
    .waitFor({ timeout: TIMEOUT });
  await carol.getByTestId("prompt-field-yes").check();
  await carol.getByTestId("prompt-submit").click();
  await executionStatus(carol, "completed");

  step("alice's page completes and shows who answered");
  await executionStatus(alice, "completed");
  await alice.getByTestId("answer").filter({ hasText: "carol" }).waitFor({ timeout: TIMEOUT });
  await shot(alice, "42-teams-requester-completed");

  step("the prompt has left carol's Inbox");
  await carol.goto(`${BASE_URL}/#/inbox`);
  await carol.getByTestId("inbox-empty").waitFor({ timeout: TIMEOUT });
  step("done");
} finally {
  await browser.close();
  done();
}
