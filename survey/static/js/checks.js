/* The form definition's checks, run on the phone before a household is kept. The page hands over
   the definition's fields and rules with the server's own messages (survey/form_rules.py), so a
   refusal here reads exactly like the API's 422 for the same body, beside the same field. */
(function (BZ) {
  'use strict';
  // Every kind of check this interpreter knows; a definition stating another one fails a test.
  const KINDS = ['required', 'min', 'max', 'min_length', 'max_length', 'pattern', 'not_future', 'window',
    'choices', 'type:uuid', 'type:commune', 'type:agency', 'type:text', 'type:integer', 'type:choices',
    'type:date', 'bad_chars', 'rule:sum_at_most'];
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

  function fill(text, params) {
    return text.replace(/\{(\w+)\}/g, (m, k) => (params[k] != null ? params[k] : m));
  }

  /* What the server stores: NFC, trimmed, runs of spaces collapsed (line breaks kept if multiline). */
  function clean(value, multiline) {
    const text = value.normalize('NFC');
    if (multiline) return text.split(/\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]/).map((l) => l.replace(/\s+/g, ' ').trim()).join('\n').trim();
    return text.replace(/\s+/g, ' ').trim();
  }

  function badChars(value, categories) {
    const re = new RegExp(`[${categories.map((c) => `\\p{${c}}`).join('')}]`, 'u');
    const found = new Set();
    for (const ch of value) {
      if (!'\t\n\r'.includes(ch) && re.test(ch)) found.add(`U+${ch.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
    }
    return Array.from(found).sort();
  }

  function isDate(value) {
    if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
    const d = new Date(`${value}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
  }

  function checkText(f, value, spec, out) {
    if (typeof value !== 'string') return [f.messages.invalid];
    const bad = badChars(value, spec.bad_categories);
    if (bad.length) return [fill(f.messages.bad_chars, {chars: bad.join(', ')})];
    if (f.type === 'agency') return spec.agencies && !spec.agencies.includes(value) ? [f.messages.not_agency] : [];
    const text = clean(value, f.multiline);
    const length = Array.from(text).length;
    if (f.min_length && length < f.min_length) out.push(f.messages.blank);
    if (length > f.max_length) out.push(f.messages.max_length);
    if (f.pattern && !new RegExp(`^(?:${f.pattern})`, 'u').test(text)) out.push(f.messages.pattern);
    return out;
  }

  /* One field's messages (a list; for a list of choices, {index: [messages]}), or null when valid. */
  function checkField(f, record, spec, ctx) {
    if (!(f.name in record)) return f.required ? [f.messages.required] : null;
    const value = record[f.name];
    if (value === null) return [f.messages.null];
    let out = [];
    if (f.type === 'integer' || f.type === 'commune') {
      if (typeof value !== 'number' || !Number.isInteger(value)) return [f.messages.invalid];
      if (f.type === 'integer' && (value < f.min || value > f.max)) out.push(f.messages.range);
      if (f.type === 'commune' && !(ctx.communes || []).includes(value)) out.push(f.messages.not_commune);
    } else if (f.type === 'text' || f.type === 'agency') {
      out = checkText(f, value, spec, out);
    } else if (f.type === 'uuid') {
      if (typeof value !== 'string' || !UUID.test(value)) out.push(f.messages.invalid);
    } else if (f.type === 'date') {
      if (!isDate(value)) out.push(f.messages.invalid);
    } else if (f.type === 'choices') {
      if (!Array.isArray(value)) return [f.messages.invalid];
      const each = {};
      value.forEach((v, i) => {
        if (typeof v !== 'string') each[i] = [f.messages.invalid];
        else if (!f.choices.includes(v)) each[i] = [fill(f.messages.choice, {input: v})];
      });
      return Object.keys(each).length ? each : null;
    }
    return out.length ? out : null;
  }

  /* A date after the field checks: not in the future, inside the campaign window (a default too). */
  function checkDate(f, record, ctx) {
    const value = f.name in record ? record[f.name] : (f.default === 'today' ? ctx.today : undefined);
    if (!isDate(value)) return null;
    if (f.not_future && value > ctx.today) return [f.messages.future];
    if (f.window && (value < f.window[0] || value > f.window[1])) return [f.messages.window];
    return null;
  }

  /* Every message for ``record``: {field: [text]} as the API's "fields"; {} when it may be kept.
     ctx: {today: 'YYYY-MM-DD' on the phone, communes: [codes the officer may choose]}. */
  function run(spec, record, ctx) {
    const errors = {};
    for (const f of spec.fields) {
      const found = checkField(f, record, spec, ctx);
      if (found) errors[f.name] = found;
    }
    for (const f of spec.fields) {
      const late = f.type === 'date' && !errors[f.name] ? checkDate(f, record, ctx) : null;
      if (late) errors[f.name] = late;
    }
    const valid = (n) => !errors[n] && Number.isInteger(record[n]);
    for (const rule of spec.rules) {
      const terms = rule.sum.concat(rule.at_most);
      if (!terms.every(valid)) continue;
      const total = (names) => names.reduce((s, n) => s + record[n], 0);
      if (total(rule.sum) > total(rule.at_most)) (errors[rule.field] = errors[rule.field] || []).push(rule.message);
    }
    return errors;
  }

  BZ.checks = {KINDS, run, clean};
})(window.BZ = window.BZ || {});
