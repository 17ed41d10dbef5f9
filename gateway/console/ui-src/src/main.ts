// The console's shell: navigation, sign-in guard, and a hash router over the pages.

import { h, replace } from "./dom";
import { adaptersPage } from "./pages/adapters";
import { adminPage } from "./pages/admin";
import { datasetPage, datasetsPage } from "./pages/datasets";
import { jobPage } from "./pages/job";
import { jobsPage } from "./pages/jobs";
import { overviewPage } from "./pages/overview";
import { playgroundPage } from "./pages/playground";
import { signInPage } from "./pages/signin";
import { isAdmin, restore, signedIn, signOut } from "./session";

export type Cleanup = () => void;
export type Page = (main: HTMLElement, params: string[], query: URLSearchParams) => Cleanup | void;

const ROUTES: [RegExp, Page][] = [
  [/^\/$/, overviewPage],
  [/^\/datasets$/, datasetsPage],
  [/^\/datasets\/([^/]+)$/, datasetPage],
  [/^\/jobs$/, jobsPage],
  [/^\/jobs\/([^/]+)$/, jobPage],
  [/^\/playground$/, playgroundPage],
  [/^\/adapters$/, adaptersPage],
  [/^\/admin$/, adminPage],
];

const NAV: [string, string, boolean][] = [
  ["#/", "Overview", false],
  ["#/datasets", "Datasets", false],
  ["#/jobs", "Fine-tunes", false],
  ["#/playground", "Playground", false],
  ["#/adapters", "Adapters", false],
  ["#/admin", "Admin", true],
];

let cleanup: Cleanup | void;
let flash = "";

function drawShell(path: string): void {
  const nav = document.getElementById("nav")!;
  const who = document.getElementById("who")!;
  const me = signedIn();
  if (!me) {
    replace(nav);
    replace(who);
    return;
  }
  const links = NAV.filter(([, , admin]) => !admin || isAdmin()).map(([href, label]) => {
    const active = href === `#${path}` || (href !== "#/" && path.startsWith(href.slice(1)));
    return h("a", { href, class: active ? "active" : "" }, label);
  });
  replace(nav, ...links);
  const out = h("button", { class: "plain", id: "sign-out", type: "button" }, "Sign out");
  out.addEventListener("click", () => {
    signOut();
    flash = "Signed out; the key was forgotten.";
    location.hash = "#/signin";
  });
  replace(who, `${me.owner ?? "anonymous"} (${me.role}) `, out);
}

function route(): void {
  if (cleanup) cleanup();
  cleanup = undefined;
  const main = document.getElementById("main")!;
  const [path, search] = (location.hash.slice(1) || "/").split("?");
  const query = new URLSearchParams(search ?? "");
  if (!signedIn() || path === "/signin") {
    drawShell("/signin");
    signInPage(main, flash, () => (location.hash = "#/"));
    flash = "";
    if (path !== "/signin") history.replaceState(null, "", "#/signin");
    return;
  }
  drawShell(path);
  for (const [pattern, page] of ROUTES) {
    const match = pattern.exec(path);
    if (match) {
      cleanup = page(main, match.slice(1).map(decodeURIComponent), query);
      return;
    }
  }
  replace(main, h("h1", {}, "Not found"), h("p", {}, "No such page. ", h("a", { href: "#/" }, "Overview")));
}

window.addEventListener("loragate:signed-out", (event) => {
  signOut();
  flash = `Your key was refused: ${(event as CustomEvent<string>).detail}`;
  location.hash = "#/signin";
  route();
});
window.addEventListener("hashchange", route);
void restore().then(route);
