import { ApiError } from "../api";
import { errorBox, h, replace } from "../dom";
import { signIn } from "../session";

export function signInPage(main: HTMLElement, flash: string, done: () => void): void {
  const input = h("input", {
    id: "api-key", type: "password", autocomplete: "off", placeholder: "lg-…", size: 48,
  });
  const status = h("div", { id: "sign-in-status" });
  const button = h("button", { type: "submit", id: "sign-in" }, "Sign in");
  const form = h(
    "form",
    { class: "row" },
    h("label", {}, "API key", input),
    button,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) {
      replace(status, errorBox("Paste an API key first."));
      return;
    }
    button.disabled = true;
    replace(status, h("p", { class: "muted" }, "Checking the key…"));
    try {
      await signIn(key);
      input.value = "";
      done();
    } catch (error) {
      const text = error instanceof ApiError && error.status === 401
        ? "That key was refused: it is unknown or has been revoked. Check it, or ask an admin for a new one."
        : error;
      replace(status, errorBox(text));
    } finally {
      button.disabled = false;
    }
  });
  replace(
    main,
    h("h1", {}, "Sign in"),
    h(
      "section",
      { class: "card" },
      h("p", {}, "Paste an API key. It is kept in this browser tab only and forgotten when you sign out or close the tab."),
      flash ? h("p", { class: "notice" }, flash) : null,
      form,
      status,
    ),
  );
  input.focus();
}
