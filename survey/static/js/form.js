/* The household form, offline first: saving keeps the household on the phone (the outbox) and
   sends it when there is a network. Without this script the form still posts to the server. */
(function (BZ) {
  'use strict';
  const form = document.getElementById('household-form');
  // Only the new-household form (posting to /form) works offline; other uses of the form post as they are.
  if (!form || form.getAttribute('action') !== '/form' || !window.indexedDB || !window.fetch) return;
  const $ = (id) => document.getElementById(id);
  const msg = JSON.parse($('outbox').dataset.msg);
  const DRAFT = 'bluezone-draft';
  const PLACE = 'bluezone-place';
  let editing = null;  // {id, mode} while a saved household is being corrected

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

  function clearErrors() {
    form.querySelectorAll('.err').forEach((el) => el.remove());
    form.querySelectorAll('.bad').forEach((el) => el.classList.remove('bad'));
    form.querySelectorAll('[aria-invalid]').forEach((el) => el.removeAttribute('aria-invalid'));
  }

  /* Reasons next to their fields: {field: [text]} or, for lists, {field: {index: [text]}}. */
  function showErrors(errors) {
    clearErrors();
    for (const [name, found] of Object.entries(errors || {})) {
      const texts = Array.isArray(found) ? found : Object.values(found).flat();
      const box = form.querySelector(`[data-field="${CSS.escape(name)}"]`) || form;
      box.classList.toggle('bad', box !== form);
      const input = box.querySelector('input, select, textarea');
      if (input && box !== form) input.setAttribute('aria-invalid', 'true');
      for (const text of texts) {
        const span = document.createElement('span');
        span.className = 'err';
        span.textContent = box === form ? `${name}: ${text}` : text;
        if (box === form) form.prepend(span); else box.append(span);
      }
    }
  }

  function status(kind, text) {
    const el = $('status');
    el.className = `flash ${kind}`;
    el.textContent = text;
    el.hidden = false;
  }

  function setEditing(value, name) {
    editing = value;
    $('editing').hidden = !value;
    $('editing').querySelector('span').textContent = value ? say('editing', {name}) : '';
  }

  /* A blank form for the next door: the commune and hamlet stay, the visit date is today. */
  function freshForm() {
    const keep = {commune_code: form.elements.commune_code.value, hamlet: form.elements.hamlet.value};
    fillForm(Object.assign({visited_on: BZ.today()}, keep));
    clearErrors();
    setEditing(null);
    localStorage.removeItem(DRAFT);
  }

  /* The browser's own checks from the form's attributes (required, bounds), before keeping it. */
  function checkInputs() {
    const errors = {};
    for (const el of fields()) if (el.willValidate && !el.checkValidity()) errors[el.name] = [el.validationMessage];
    showErrors(errors);
    return !Object.keys(errors).length;
  }

  async function save(event) {
    event.preventDefault();
    if (!checkInputs()) return;
    const record = readForm();
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
    status('wait', say('saved_local', {name: record.head_name, hamlet: record.hamlet}));
    freshForm();
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
    if (waiting && waiting.state === 'rejected') showErrors(waiting.errors); else clearErrors();
    form.scrollIntoView();
  }

  /* The server's reasons in one line, each after its field's label. */
  function reasons(item) {
    const parts = Object.entries(item.errors || {}).map(([name, found]) => {
      const label = form.querySelector(`[data-field="${CSS.escape(name)}"] :is(label, legend)`);
      const texts = Array.isArray(found) ? found : Object.values(found).flat();
      return `${label ? label.textContent : name}: ${texts.join(' ')}`;
    });
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
    const waiting = new Set(outbox.map((i) => i.id));
    const day = BZ.today();
    const today = outbox.filter((i) => i.record.visited_on === day).map((i) => row(i.record, i.state, i))
      .concat(sent.filter((s) => s.record.visited_on === day && !waiting.has(s.id))
        .sort((a, b) => (a.record.created_at || '').localeCompare(b.record.created_at || ''))
        .map((s) => row(s.record, 'sent', s)));
    $('outbox-count').textContent = outbox.length;
    $('today-count').textContent = today.length;
    fill($('outbox-list'), outbox.map((i) => row(i.record, i.state, i)));
    fill($('today-list'), today);
  }

  function onSync(event) {
    const {type, item, token, user} = event.detail;
    if (type === 'online') {
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

  function showNetwork() {
    $('net-offline').hidden = navigator.onLine;
  }

  /* Register the service worker; say so once the form is cached for use with no signal. */
  function offlineReady() {
    if (!('serviceWorker' in navigator) || !window.caches) return;
    const check = () => navigator.serviceWorker.ready
      .then(() => caches.match('/form'))
      .then((hit) => { if (hit) $('offline-ready').hidden = false; });
    navigator.serviceWorker.addEventListener('message', (e) => { if (e.data && e.data.type === 'form-cached') check(); });
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
    form.elements.visited_on.value = BZ.today();
  }

  form.addEventListener('submit', save);
  form.addEventListener('input', () => {
    localStorage.setItem(DRAFT, JSON.stringify({record: readForm(), editing}));
  });
  $('edit-cancel').addEventListener('click', freshForm);
  $('send-now').addEventListener('click', () => BZ.sync.run(true));
  for (const list of [$('outbox-list'), $('today-list')]) {
    list.addEventListener('click', (e) => { if (e.target.dataset.open) openRecord(e.target.dataset.open); });
  }
  document.addEventListener('bz:sync', onSync);
  window.addEventListener('online', () => { showNetwork(); BZ.sync.run(true); });
  window.addEventListener('offline', showNetwork);
  document.addEventListener('visibilitychange', () => { if (!document.hidden) BZ.sync.run(true); });

  form.elements.visited_on.max = BZ.today();
  restore();
  showNetwork();
  for (const id of ['queue', 'outbox', 'today']) $(id).hidden = false;
  BZ.store.persist().catch(() => null);
  offlineReady();
  render().then(() => BZ.sync.run(true));
})(window.BZ = window.BZ || {});
