/* Sending the outbox: one household at a time, retried with backoff. The server stores one
   record per id, so a household sent twice (an answer lost on a weak network) is stored once.
   The page learns what happened from "bz:sync" events on document. */
(function (BZ) {
  'use strict';
  const API = '/api/v1';
  const LONGEST_WAIT = 5 * 60 * 1000;
  const PROBE = 10 * 1000;
  let running = null;
  let rerun = false;
  let timer = null;
  let token = '';
  let user = null;  // who the server says is signed in; households are sent only as their own officer

  function emit(type, detail) {
    document.dispatchEvent(new CustomEvent('bz:sync', {detail: Object.assign({type}, detail)}));
  }

  function lang() { return document.documentElement.lang || 'vi'; }

  function pad(n) { return String(n).padStart(2, '0'); }

  /* The phone's date as YYYY-MM-DD: what "today" means to the officer. */
  BZ.today = function () {
    const d = new Date();
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  };

  /* 2 s, 4 s, 8 s ... at most 5 minutes, with jitter so that phones do not all retry at once. */
  function backoff(tries) {
    const top = Math.min(LONGEST_WAIT, 2000 * 2 ** Math.min(tries, 12));
    return top / 2 + Math.random() * top / 2;
  }

  /* Who is signed in, and the session's current CSRF token; null when the login has expired. */
  async function session() {
    const res = await fetch(`${API}/session`, {credentials: 'same-origin', cache: 'no-store'});
    if (res.status === 401) return null;
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const body = await res.json();
    token = body.csrf_token;
    user = body.user.username;
    emit('online', {token, user: body.user});
    return body;
  }

  async function send(item) {
    const update = item.mode === 'update';
    const url = `${API}/households${update ? '/' + encodeURIComponent(item.id) : ''}?lang=${lang()}`;
    try {
      const res = await fetch(url, {method: update ? 'PUT' : 'POST', credentials: 'same-origin', cache: 'no-store',
        headers: {'Content-Type': 'application/json', 'X-CSRF-Token': token},
        body: JSON.stringify(item.record)});
      const body = await res.json().catch(() => ({}));
      return {status: res.status, body};
    } catch (err) {
      return {status: 0, body: {message: String(err.message || err)}};
    }
  }

  /* What one answer means: 'sent', 'again' (send it again now), 'login', 'rejected' or 'later'. */
  async function settle(item, answer, attempt) {
    const {status, body} = answer;
    if (status === 200 || status === 201) {
      await BZ.store.put('sent', {id: item.id, record: body, sent: Date.now()});
      // A correction saved while this was on its way stays, as a correction of the stored one.
      if (!await BZ.store.settle('outbox', item, null)) {
        const newer = await BZ.store.get('outbox', item.id);
        if (newer) await BZ.store.settle('outbox', newer, {mode: 'update'});
      }
      return 'sent';
    }
    if (status === 401) return 'login';
    if (attempt < 2 && status === 400 && /csrf/i.test(body.message || '')) return (await session()) ? 'again' : 'login';
    // 409: already stored with other content (a lost answer, then a correction): send it as one.
    // 404 on a correction: the first copy never arrived: send it as new.
    if (attempt < 2 && ((status === 409 && item.mode !== 'update') || (status === 404 && item.mode === 'update'))) {
      item.mode = item.mode === 'update' ? 'create' : 'update';
      await BZ.store.settle('outbox', item, {mode: item.mode});
      return 'again';
    }
    if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
      await BZ.store.settle('outbox', item, {state: 'rejected', errors: body.fields || {}, message: body.message || `HTTP ${status}`});
      return 'rejected';
    }
    const tries = (item.tries || 0) + 1;
    await BZ.store.settle('outbox', item, {tries, next: Date.now() + backoff(tries), message: body.message || `HTTP ${status}`});
    return 'later';
  }

  /* Today's records of this officer from the server, kept on the phone for the list. */
  async function pullToday() {
    const res = await fetch(`${API}/households?officer=me&visited_on=${BZ.today()}&per_page=500`,
      {credentials: 'same-origin', cache: 'no-store'});
    if (!res.ok) return;
    const body = await res.json();
    const old = Date.now() - 3 * 24 * 3600 * 1000;
    const kept = await BZ.store.all('sent');
    await Promise.all(kept.filter((s) => s.sent < old).map((s) => BZ.store.remove('sent', s.id)));
    await Promise.all(body.items.map((record) => BZ.store.put('sent', {id: record.id, record, sent: Date.now()})));
  }

  /* Waiting households this login may send: saved by the same officer (a shared phone keeps the others). */
  async function waiting() {
    return (await BZ.store.all('outbox')).filter((i) => i.state === 'waiting' && (!user || !i.officer || i.officer === user));
  }

  async function pass(force) {
    const now = Date.now();
    const due = (await waiting()).filter((i) => force || !i.next || i.next <= now).sort((a, b) => a.saved - b.saved);
    if (!due.length && !force) return;
    if (!navigator.onLine) return emit('offline');
    try {
      if (!await session()) return emit('login');
    } catch (err) {
      return emit('offline');
    }
    for (const item of due) {
      if (item.officer && item.officer !== user) continue;
      let outcome = 'again';
      for (let attempt = 0; outcome === 'again'; attempt += 1) outcome = await settle(item, await send(item), attempt);
      emit(outcome, {item});
      if (outcome === 'login' || outcome === 'later') return;
    }
    if (force) await pullToday().catch(() => null);
  }

  /* Wake up when the earliest waiting household is due again, and look for a network every
     PROBE ms while any wait: "online" events are not always fired when a signal comes back. */
  async function schedule() {
    clearTimeout(timer);
    const next = (await waiting())
      .reduce((min, i) => Math.min(min, i.next || 0), Infinity);
    if (next !== Infinity) timer = setTimeout(() => run(false), Math.min(PROBE, Math.max(1000, next - Date.now())));
  }

  function locked(work) {
    return navigator.locks ? navigator.locks.request('bluezone-outbox', work) : work();
  }

  /* Send what is due (everything waiting when force is set); one pass at a time per phone.
     The promise settles once no pass is left to do, those asked for meanwhile included. */
  function run(force) {
    if (running) {
      rerun = rerun || force;
      return running;
    }
    running = (async () => {
      for (let again = force; ; again = true) {
        rerun = false;
        try {
          await locked(() => pass(again));
        } catch (err) {
          emit('error', {message: String(err.message || err)});
        }
        if (!rerun) break;
      }
      running = null;
      emit('done');
      await schedule();
    })();
    return running;
  }

  BZ.sync = {run};
})(window.BZ = window.BZ || {});
