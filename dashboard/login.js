// @ts-check
/**
 * The login page's script (served as /pushq/assets/login.js): sends the token the user typed to
 * `POST /pushq/login` as JSON; the server answers with an HttpOnly session cookie, and the page
 * reloads into the dashboard. The token itself is never stored by the page.
 */
'use strict';

(function () {
  const form = document.getElementById('login');
  const input = document.getElementById('token');
  const alert = document.getElementById('login-error');
  if (!(form instanceof HTMLFormElement) || !(input instanceof HTMLInputElement) || alert === null) throw new Error('the login page is missing its form');
  const alertText = alert.querySelector('.text');

  /** @param {string} message */
  function fail(message) {
    if (alertText !== null) alertText.textContent = message;
    alert?.classList.add('shown');
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    fetch('/pushq/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: input.value }) }).then(
      (res) => {
        if (res.ok) return location.reload();
        return res.json().then(
          (/** @type {{ error?: { message?: string } }} */ body) => fail(body.error?.message ?? `HTTP ${res.status}`),
          () => fail(`HTTP ${res.status}`),
        );
      },
      (err) => fail(err instanceof Error ? err.message : String(err)),
    );
  });
  input.focus();
})();
