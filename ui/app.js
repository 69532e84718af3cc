// The dashboard's shell: asks for a token where the server wants one, then shows the
// page the address names (#/runs, #/runs/<id>, #/containers, #/sandboxes, #/server).
import { api, ApiError, token, UNAUTHORIZED_EVENT } from './api.js';
import { fill, h } from './dom.js';
import * as containers from './pages/containers.js';
import * as run from './pages/run.js';
import * as runs from './pages/runs.js';
import * as sandboxes from './pages/sandboxes.js';
import * as server from './pages/server.js';

const main = document.querySelector('main');
const nav = document.querySelector('header nav');
const who = document.querySelector('header .who');
const forget = document.querySelector('header .forget');
const login = document.querySelector('form.login');
const loginError = login.querySelector('.error');

/** What the server told this caller about itself (GET /v1/info); undefined until signed in. */
let info;
let unmount = () => {};

function route() {
  const [path, search] = (location.hash.replace(/^#/, '') || '/runs').split('?');
  const params = new URLSearchParams(search);
  const parts = path.split('/').filter(Boolean);
  const navigate = (hash) => (location.hash = hash);
  if (parts[0] === 'runs' && parts[1]) return () => run.mount(main, { id: parts[1] });
  const page = { runs, containers, sandboxes, server }[parts[0]];
  if (!page) return () => (fill(main, h('p', {}, 'No such page. ', h('a', { href: '#/runs' }, 'Runs'))), () => {});
  return () => page.mount(main, { params, info, navigate });
}

function show() {
  unmount();
  for (const link of nav.querySelectorAll('a')) link.classList.toggle('current', location.hash.startsWith(link.getAttribute('href')));
  unmount = route()() ?? (() => {});
}

function askForToken(message) {
  unmount();
  unmount = () => {};
  info = undefined;
  fill(main);
  nav.hidden = true;
  forget.hidden = true;
  fill(who);
  login.hidden = false;
  fill(loginError, message ?? '');
  login.elements.token.focus();
}

async function start() {
  try {
    info = await api('GET', '/v1/info');
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return askForToken(token.get() ? 'That token was not accepted.' : undefined);
    fill(main, h('p', { class: 'error' }, `The server did not answer: ${err.message}`));
    return undefined;
  }
  login.hidden = true;
  nav.hidden = false;
  forget.hidden = !token.get();
  fill(who, info.caller.name ? `Signed in as ${info.caller.name}` : 'Open server');
  show();
  return undefined;
}

login.addEventListener('submit', (event) => {
  event.preventDefault();
  token.set(login.elements.token.value.trim());
  login.reset();
  void start();
});
forget.addEventListener('click', () => {
  token.clear();
  askForToken();
});
window.addEventListener(UNAUTHORIZED_EVENT, () => {
  if (info) askForToken('The server no longer accepts this token.');
});
window.addEventListener('hashchange', () => info && show());
void start();
