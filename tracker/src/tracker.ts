// The ThamesThrive browser tracker, served at /tracker.js. See docs/tracker.md.
//
// Loaded by the snippet there, which defines window.thamesthrive as a function that
// queues its calls in .q until this script replaces it. Everything here is first-party:
// the profile and session ids live in localStorage (cookies when it is unavailable) on
// the site's own origin, and every call becomes an event of a POST /track request.

type Props = Record<string, unknown>;

interface Options {
  source: string; // event source id
  endpoint?: string; // ThamesThrive's base URL; defaults to where this script came from
  autoPageView?: boolean; // send page-view on init (default true)
  spa?: boolean; // also on history changes (pushState, replaceState, popstate)
  sessionTimeout?: number; // minutes of inactivity that end a session (default 30)
  maxQueue?: number; // events kept while offline (default 200)
  cookieDomain?: string; // for the cookie fallback, e.g. ".example.com"
}

interface Ev {
  id: string;
  type: string;
  properties: Props;
  time: { create: string };
  context: Props;
}

interface Answer {
  profile?: { id?: string };
  session?: { id?: string };
}

type Cmd = (...a: any[]) => void;
interface Global extends Cmd {
  q?: IArguments[] | any[][];
}

const w = window as unknown as Window & { thamesthrive?: Global };
const d = document;
const nav = navigator;
const P = "tt_";
const PID = P + "pid",
  SID = P + "sid",
  LAST = P + "last",
  OUT = P + "out",
  QUEUE = P + "queue";

// ---- storage: localStorage, or first-party cookies when it is unavailable ----

let ls: Storage | null = null;
try {
  ls = w.localStorage;
  ls.setItem(P + "t", "1");
  ls.removeItem(P + "t");
} catch (e) {
  ls = null;
}

let opts: Options | null = null;

function get(k: string): string | null {
  if (ls) return ls.getItem(k);
  const m = d.cookie.match(new RegExp("(?:^|; )" + k + "=([^;]*)"));
  return m ? decodeURIComponent(m[1]) : null;
}

function set(k: string, v: string | null): void {
  if (ls) {
    v === null ? ls.removeItem(k) : ls.setItem(k, v);
    return;
  }
  if (k === QUEUE) return; // too big for a cookie: the offline queue stays in memory
  const dom = opts && opts.cookieDomain ? "; domain=" + opts.cookieDomain : "";
  const age = v === null ? 0 : 400 * 86400;
  d.cookie = k + "=" + encodeURIComponent(v || "") + "; path=/; max-age=" + age + "; SameSite=Lax" + dom;
}

// ---- ids ----

function uuid(): string {
  const c = w.crypto;
  if (c && c.randomUUID) return c.randomUUID();
  const b = new Uint8Array(16);
  c.getRandomValues(b);
  b[6] = (b[6] & 15) | 64;
  b[8] = (b[8] & 63) | 128;
  let s = "";
  for (let i = 0; i < 16; i++) s += (i == 4 || i == 6 || i == 8 || i == 10 ? "-" : "") + (b[i] + 256).toString(16).slice(1);
  return s;
}

// touch ends the session after the inactivity timeout and records this activity.
function touch(): void {
  const now = Date.now();
  const last = +(get(LAST) || 0);
  if (now - last > ((opts && opts.sessionTimeout) || 30) * 60000) set(SID, null);
  set(LAST, String(now));
}

// ---- events ----

function pageContext(): Props {
  const r = d.referrer;
  let host = "";
  try {
    host = r ? new URL(r).host : "";
  } catch (e) {}
  return {
    page: { url: location.href, path: location.pathname, title: d.title, referer: { host: host, url: r } },
    browser: { local: { browser: { userAgent: nav.userAgent, language: nav.language } } },
    screen: { local: { width: screen.width, height: screen.height } },
  };
}

let pending: Ev[] = []; // events of this tick, sent together
let outbox: Ev[][] = []; // batches not yet acknowledged, oldest first
let inflight = false;
let backoff = 0;
let timer = 0;

function optedOut(): boolean {
  return get(OUT) === "1";
}

function add(type: string, properties?: Props): void {
  if (!opts || optedOut()) return;
  touch();
  pending.push({ id: uuid(), type: type, properties: properties || {}, time: { create: new Date().toISOString() }, context: pageContext() });
  if (pending.length === 1) Promise.resolve().then(flush);
}

function flush(): void {
  if (!pending.length) return;
  outbox.push(pending);
  pending = [];
  // Bound the queue: the oldest events go first.
  let n = 0;
  for (const b of outbox) n += b.length;
  while (outbox.length > 1 && n > ((opts && opts.maxQueue) || 200)) n -= outbox.shift()!.length;
  save();
  pump();
}

function save(): void {
  set(QUEUE, outbox.length ? JSON.stringify(outbox) : null);
}

function body(evs: Ev[]): string {
  const pid = get(PID),
    sid = get(SID);
  return JSON.stringify({
    source: { id: opts!.source },
    profile: pid ? { id: pid } : undefined,
    session: sid ? { id: sid } : undefined,
    context: evs[0].context,
    events: evs,
  });
}

function url(): string {
  return opts!.endpoint!.replace(/\/$/, "") + "/track";
}

function retry(): void {
  backoff = Math.min(backoff ? backoff * 2 : 1000, 60000);
  clearTimeout(timer);
  timer = w.setTimeout(pump, backoff);
}

// pump sends the oldest batch; one request at a time, so that the ids the first answer
// carries are used by the next request (a new visitor gets one profile, not several).
function pump(): void {
  if (inflight || !outbox.length || !opts || optedOut() || nav.onLine === false) return;
  const b = outbox[0];
  const text = body(b);
  inflight = true;
  // text/plain keeps this a "simple" cross-origin request: no preflight.
  fetch(url(), { method: "POST", body: text, headers: { "Content-Type": "text/plain" }, keepalive: text.length < 60000, credentials: "omit" })
    .then(
      (r): Promise<void> | void => {
        if (r.status >= 500 || r.status == 429 || r.status == 408) throw 0;
        // Any other answer is final: a 4xx will not get better by sending it again.
        if (outbox[0] === b) outbox.shift();
        save();
        backoff = 0;
        if (r.ok) return r.json().then(ids);
      },
      () => {
        throw 0;
      }
    )
    .then(
      () => {
        inflight = false;
        pump();
      },
      () => {
        inflight = false;
        retry();
      }
    );
}

function ids(a: Answer): void {
  // A merge can change the profile id: the answer is the truth. (Unless the visitor
  // opted out while the request was under way.)
  if (optedOut()) return;
  if (a && a.profile && a.profile.id) set(PID, a.profile.id);
  if (a && a.session && a.session.id) set(SID, a.session.id);
}

// beacon hands every unsent batch to the browser when the page is hidden or unloaded;
// the events keep their ids, so a batch delivered twice is stored once.
function beacon(): void {
  flush();
  if (!opts || optedOut() || !nav.sendBeacon) return;
  const left: Ev[][] = [];
  for (const b of outbox) if (!nav.sendBeacon(url(), body(b))) left.push(b);
  outbox = left;
  save();
}

// ---- commands ----

let lastURL = "";

function page(properties?: Props): void {
  lastURL = location.href;
  add("page-view", properties);
}

// identify maps the well-known trait names onto the profile's data (so that merge keys
// such as the e-mail and the customer id merge profiles) and keeps the rest as traits.
const known: Record<string, string> = {
  email: "contact.email.main",
  phone: "contact.phone.main",
  firstname: "pii.firstname",
  firstName: "pii.firstname",
  first_name: "pii.firstname",
  lastname: "pii.lastname",
  lastName: "pii.lastname",
  last_name: "pii.lastname",
  id: "identifier.id",
  userId: "identifier.id",
  user_id: "identifier.id",
};

function identify(traits?: Props): void {
  const props: Props = { traits: {} };
  for (const k in traits || {}) {
    const v = traits![k];
    const path = known[k];
    if (!path) {
      (props.traits as Props)[k] = v;
      continue;
    }
    let o = props;
    const parts = path.split(".");
    for (let i = 0; i < parts.length - 1; i++) o = (o[parts[i]] = o[parts[i]] || {}) as Props;
    o[parts[parts.length - 1]] = v;
  }
  add("profile-update", props);
}

function consent(consents: Props): void {
  add("consent-update", { consents: consents });
}

function optOut(): void {
  set(OUT, "1");
  pending = [];
  outbox = [];
  save();
  set(PID, null);
  set(SID, null);
  set(LAST, null);
}

function scriptOrigin(): string {
  const cs = d.currentScript as HTMLScriptElement | null;
  const src = (cs && cs.src) || "";
  try {
    return new URL(src).origin;
  } catch (e) {
    return location.origin;
  }
}
const home = scriptOrigin();

function hooks(): void {
  const onHide = () => d.visibilityState === "hidden" && beacon();
  d.addEventListener("visibilitychange", onHide);
  w.addEventListener("pagehide", beacon);
  w.addEventListener("online", () => {
    backoff = 0;
    pump();
  });
  if (opts!.spa) {
    const changed = () => location.href !== lastURL && page();
    for (const m of ["pushState", "replaceState"] as const) {
      const orig = history[m];
      history[m] = function (this: History) {
        const r = orig.apply(this, arguments as any);
        changed();
        return r;
      } as any;
    }
    w.addEventListener("popstate", changed);
  }
}

function init(o: Options): void {
  if (opts || !o || !o.source) return;
  opts = o;
  o.endpoint = o.endpoint || home;
  try {
    outbox = JSON.parse(get(QUEUE) || "[]");
  } catch (e) {
    outbox = [];
  }
  hooks();
  if (o.autoPageView !== false) page();
  pump();
}

const commands: Record<string, Cmd> = {
  init: init,
  page: page,
  track: add,
  identify: identify,
  consent: consent,
  optOut: optOut,
  optIn: () => set(OUT, null),
  flush: flush,
  // ids(callback) hands the stored ids to the page.
  ids: (cb: (v: { profile: string | null; session: string | null }) => void) => cb({ profile: get(PID), session: get(SID) }),
};

function call(args: any[] | IArguments): void {
  const c = commands[args[0]];
  if (c) c.apply(null, Array.prototype.slice.call(args, 1));
}

const queued = (w.thamesthrive && w.thamesthrive.q) || [];
const api = function () {
  call(arguments);
} as Global;
for (const k in commands) (api as any)[k] = commands[k];
w.thamesthrive = api;
for (const a of queued) call(a);
