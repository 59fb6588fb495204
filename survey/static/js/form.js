/* The household form, offline first: saving keeps the household on the phone (the outbox) and
   sends it when there is a network. Without this script the form still posts to the server. */
(function (BZ) {
  'use strict';
  const form = document.getElementById('household-form');
  // Only the new-household form (posting to /form) works offline; other uses of the form post as they are.
  if (!form || form.getAttribute('action') !== '/form' || !window.indexedDB || !window.fetch) return;
  const $ = (id) => document.getElementById(id);
  const msg = JSON.parse($('outbox').dataset.msg);
  const rules = JSON.parse(form.dataset.rules);
  const errors = BZ.errorsFor(form, () => fields().map((el) => el.name), (count) => say('error_summary', {count}));
  const DRAFT = 'bluezone-draft';
  const PLACE = 'bluezone-place';
  let editing = null;  // {id, mode} while a saved household is being corrected
  let keepStatus = false;
  const shownFor = $('outbox').dataset.user;  // who the page was made for (a kept copy may be older)  // a save's outcome is on screen until the next entry starts

  function say(key, params) {
    return msg[key].replace(/\{(\w+)\}/g, (_, k) => (params && params[k] != null ? params[k] : ''));
  }

  /* A record id made at save time: crypto.randomUUID, or a version 4 UUID from getRandomValues. */
  function newId() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  function fields() {
    return Array.from(form.elements).filter((el) => el.name && el.name !== 'csrf_token' && el.name !== 'id');
  }

  /* The form as the JSON the API takes (the shape the server builds from a plain post). */
  function readForm() {
    const record = {};
    for (const el of fields()) {
      if (el.type === 'checkbox') {
        record[el.name] = record[el.name] || [];
        if (el.checked) record[el.name].push(el.value);
        continue;
      }
      const value = el.value.normalize('NFC');
      const numeric = el.type === 'number' || el.tagName === 'SELECT';
      if (value.trim() === '') {
        if (el.required && !numeric) record[el.name] = value;
      } else {
        record[el.name] = numeric && /^\s*-?\d+\s*$/.test(value) ? parseInt(value, 10) : value;
      }
    }
    return record;
  }

  function fillForm(record) {
    for (const el of fields()) {
      const value = record[el.name];
      if (el.type === 'checkbox') el.checked = Array.isArray(value) && value.includes(el.value);
      else el.value = value == null ? '' : String(value);
    }
  }

  /* The outcome where the officer looks: at the top, scrolled to and focused, kept until the next
     entry starts (the first keystroke), announced by its live region. */
  function status(kind, text, show) {
    const el = $('status');
    el.className = `flash ${kind}`;
    el.textContent = text;
    el.hidden = false;
    if (show) {
      keepStatus = true;
      el.focus();
      el.scrollIntoView({block: 'nearest'});
    }
  }

  function setEditing(value, name) {
    editing = value;
    $('editing').hidden = !value;
    $('editing').querySelector('span').textContent = value ? say('editing', {name}) : '';
  }

  /* A blank form for the next door: the commune and hamlet stay, the visit date is today. */
  function freshForm() {
    const keep = {commune_code: form.elements.commune_code.value, hamlet: form.elements.hamlet.value};
    fillForm(Object.assign({visited_on: form.elements.visited_on.value || defaultVisit()}, keep));
    errors.clear();
    setEditing(null);
    localStorage.removeItem(DRAFT);
  }

  /* Today when it is a day of the campaign; otherwise the officer picks the day. */
  function defaultVisit() {
    const el = form.elements.visited_on;
    const day = BZ.today();
    return (!el.min || day >= el.min) && (!el.max || day <= el.max) ? day : '';
  }

  /* The definition's checks, with the server's messages, before a household enters the outbox. */
  function checkInputs(record) {
    const found = BZ.checks.run(rules, record, {today: BZ.today(), communes: rules.communes});
    errors.show(found, true);
    return !Object.keys(found).length;
  }

  async function save(event) {
    event.preventDefault();
    const record = readForm();
    if (!checkInputs(record)) return;
    record.id = editing ? editing.id : newId();
    const item = {id: record.id, record, mode: editing ? editing.mode : 'create', state: 'waiting',
      officer: $('outbox').dataset.user, errors: {}, message: '', tries: 0, next: 0, saved: Date.now()};
    try {
      await BZ.store.put('outbox', item);
    } catch (err) {
      if (navigator.onLine) {  // the phone refuses to keep it: post the plain form, same id
        form.elements.id.value = record.id;
        return form.submit();
      }
      return status('error', say('save_failed', {error: err.message}));
    }
    localStorage.setItem(PLACE, JSON.stringify({commune_code: record.commune_code, hamlet: record.hamlet}));
    freshForm();
    status('wait', say('saved_local', {name: record.head_name, hamlet: record.hamlet}), true);
    await render();
    BZ.sync.run(true);
  }

  /* Open a household (waiting, to fix, or sent) in the form to correct it. */
  async function openRecord(id) {
    const waiting = await BZ.store.get('outbox', id);
    const sent = waiting ? null : await BZ.store.get('sent', id);
    if (!waiting && !sent) return;
    const record = waiting ? waiting.record : sent.record;
    fillForm(record);
    setEditing({id, mode: waiting ? waiting.mode : 'update'}, record.head_name);
    if (waiting && waiting.state === 'rejected') errors.show(waiting.errors, true); else errors.clear();
    if (!(waiting && waiting.state === 'rejected')) form.scrollIntoView();
  }

  /* The server's reasons in one line, each after its field's label. */
  function reasons(item) {
    const parts = Object.entries(item.errors || {}).map(([name, found]) => errors.line(name, found));
    return parts.length ? parts.join('; ') : item.message;
  }

  function row(record, state, item) {
    const li = document.createElement('li');
    li.dataset.id = record.id;
    li.dataset.state = state;
    const name = document.createElement('span');
    name.textContent = `${record.head_name || '?'} · ${record.hamlet || ''}`;
    const badge = document.createElement('span');
    badge.className = `badge ${state}`;
    let text = msg[`state_${state}`];
    if (state === 'waiting' && item.next > Date.now()) {
      text += `, ${say('retry_at', {time: new Date(item.next).toLocaleTimeString(document.documentElement.lang)})}`;
    }
    badge.textContent = text;
    const open = document.createElement('button');
    open.type = 'button';
    open.className = 'link';
    open.dataset.open = record.id;
    open.textContent = msg.open_record;
    li.append(name, ' ', badge, ' ', open);
    if (item.officer && item.officer !== $('outbox').dataset.user) li.append(` (${item.officer})`);
    if (state === 'rejected') {
      const why = document.createElement('small');
      why.textContent = reasons(item);
      li.append(why);
    }
    return li;
  }

  function fill(list, rows) {
    list.replaceChildren(...rows);
    if (!rows.length) list.append(Object.assign(document.createElement('li'), {textContent: msg.nothing_yet}));
  }

  /* The counter, the outbox list and today's list, from what the phone holds. */
  async function render() {
    const [outbox, sent] = await Promise.all([BZ.store.all('outbox'), BZ.store.all('sent')]);
    outbox.sort((a, b) => a.saved - b.saved);
    const held = new Set(outbox.map((i) => i.id));
    const queued = outbox.filter((i) => i.state !== 'rejected');
    const toFix = outbox.filter((i) => i.state === 'rejected');
    const day = BZ.today();
    // Recorded today: on the server or on its way; a household the server refused is not recorded.
    const today = queued.filter((i) => i.record.visited_on === day).map((i) => row(i.record, i.state, i))
      .concat(sent.filter((s) => s.record.visited_on === day && !held.has(s.id))
        .sort((a, b) => (a.record.created_at || '').localeCompare(b.record.created_at || ''))
        .map((s) => row(s.record, 'sent', s)));
    $('outbox-count').textContent = queued.length;
    $('today-count').textContent = today.length;
    $('to-fix-count').textContent = toFix.length;
    $('to-fix').hidden = !toFix.length;
    fill($('outbox-list'), queued.map((i) => row(i.record, i.state, i)));
    fill($('to-fix-list'), toFix.map((i) => row(i.record, i.state, i)));
    fill($('today-list'), today);
  }

  function onSync(event) {
    const {type, item, token, user} = event.detail;
    if (type === 'online') {
      if (user.username !== shownFor) return anotherOfficer();
      $('relogin').hidden = true;
      $('outbox').dataset.user = user.username;
      form.ownerDocument.querySelectorAll('input[name=csrf_token]').forEach((el) => { el.value = token; });
    } else if (type === 'login') {
      $('relogin').hidden = false;
    } else if (type === 'sent') {
      status('ok', say('sent_ok', {name: item.record.head_name, hamlet: item.record.hamlet}));
    } else if (type === 'rejected') {
      status('error', say('rejected', {name: item.record.head_name}));
      if (!editing && !form.elements.head_name.value) openRecord(item.id);
    }
    if (type !== 'online') render();
  }

  /* The kept page was made for another login (a shared phone): drop it and load this one's. */
  async function anotherOfficer() {
    if (sessionStorage.getItem('bluezone-reloaded') === shownFor) return;
    sessionStorage.setItem('bluezone-reloaded', shownFor);
    if (window.caches) {
      for (const name of await caches.keys()) if (name.startsWith('bluezone-form-')) await (await caches.open(name)).delete('/form');
    }
    location.reload();
  }

  function showNetwork() {
    $('net-offline').hidden = navigator.onLine;
  }

  /* Register the service worker; say so once the form is cached for use with no signal. */
  function offlineReady() {
    if (!('serviceWorker' in navigator) || !window.caches) return;
    const check = () => navigator.serviceWorker.ready
      .then(() => caches.match('/form'))
      .then((hit) => { if (hit) $('offline-ready').classList.add('shown'); });
    const mine = new URL(document.querySelector('script[src*="js/form.js"]').src).searchParams.get('v');
    navigator.serviceWorker.addEventListener('message', (e) => {
      if (!e.data || e.data.type !== 'form-cached') return;
      check();
      if (e.data.version !== mine) $('new-version').hidden = false;  // a deploy: offer to reload
    });
    navigator.serviceWorker.register('/sw.js').then(check).catch(() => null);
  }

  function restore() {
    const draft = JSON.parse(localStorage.getItem(DRAFT) || 'null');
    const place = JSON.parse(localStorage.getItem(PLACE) || 'null');
    if (draft) {
      fillForm(draft.record);
      setEditing(draft.editing, draft.record.head_name);
      return;
    }
    if (place && Array.from(form.elements.commune_code.options).some((o) => o.value === String(place.commune_code))) {
      fillForm(Object.assign(readForm(), place));
    }
    form.elements.visited_on.value = defaultVisit();
  }

  const visit = rules.fields.find((f) => f.name === 'visited_on');
  if (visit && visit.window) {  // the date field offers the campaign's days, none after today
    form.elements.visited_on.min = visit.window[0];
    form.elements.visited_on.max = visit.window[1] < BZ.today() ? visit.window[1] : BZ.today();
  }
  form.addEventListener('submit', save);
  form.addEventListener('input', () => {
    if (keepStatus) {
      keepStatus = false;
      $('status').hidden = true;
    }
    localStorage.setItem(DRAFT, JSON.stringify({record: readForm(), editing}));
  });
  $('edit-cancel').addEventListener('click', freshForm);
  $('error-list').addEventListener('click', (e) => {
    const link = e.target.closest('a');
    const target = link && document.getElementById(link.hash.slice(1));
    if (target) {
      e.preventDefault();
      (target.tagName === 'FIELDSET' ? target.querySelector('input') : target).focus();
    }
  });
  $('send-now').addEventListener('click', () => BZ.sync.run(true));
  $('reload').addEventListener('click', () => location.reload());
  for (const list of [$('outbox-list'), $('to-fix-list'), $('today-list')]) {
    list.addEventListener('click', (e) => { if (e.target.dataset.open) openRecord(e.target.dataset.open); });
  }
  document.addEventListener('bz:sync', onSync);
  window.addEventListener('online', () => { showNetwork(); BZ.sync.run(true); });
  window.addEventListener('offline', showNetwork);
  document.addEventListener('visibilitychange', () => { if (!document.hidden) BZ.sync.run(true); });

  restore();
  showNetwork();
  $('queue').classList.add('live');
  for (const id of ['outbox', 'today']) $(id).hidden = false;
  BZ.formRecord = readForm;  // what a save would send, for tests that compare it with the API
  BZ.store.persist().catch(() => null);
  offlineReady();
  render().then(() => BZ.sync.run(true));
})(window.BZ = window.BZ || {});
