/* Reasons a household cannot be kept, where a person can act on them: beside each field (tied to
   it for screen readers), in a summary at the top linking to each field, focus on the first. */
(function (BZ) {
  'use strict';
  const $ = (id) => document.getElementById(id);

  /* form: the household form; order(): its field names in order; heading(count): the summary's title. */
  BZ.errorsFor = function (form, order, heading) {
    const boxOf = (name) => form.querySelector(`[data-field="${CSS.escape(name)}"]`);
    const texts = (found) => (Array.isArray(found) ? found : Object.values(found).flat());

    /* "Label: reasons", as the summary and the list of households to fix show them. */
    function line(name, found) {
      const label = boxOf(name) && boxOf(name).querySelector(':is(label, legend)');
      return `${label ? label.textContent : name}: ${texts(found).join(' ')}`;
    }

    function clear() {
      form.querySelectorAll('.err').forEach((el) => el.remove());
      form.querySelectorAll('.bad').forEach((el) => el.classList.remove('bad'));
      form.querySelectorAll('[aria-invalid]').forEach((el) => el.removeAttribute('aria-invalid'));
      form.querySelectorAll('[aria-describedby$="-err"]').forEach((el) => el.removeAttribute('aria-describedby'));
      $('error-summary').hidden = true;
      $('error-list').replaceChildren();
    }

    /* One field's reasons beside it; returns the control to focus, if the field is on the form. */
    function mark(name, found) {
      const box = boxOf(name);
      const span = Object.assign(document.createElement('span'), {className: 'err', id: `${name}-err`,
        textContent: box ? texts(found).join(' ') : `${name}: ${texts(found).join(' ')}`});
      if (!box) {
        form.prepend(span);
        return null;
      }
      box.classList.add('bad');
      box.append(span);
      const control = box.querySelector('input, select, textarea');
      (box.tagName === 'FIELDSET' ? box : control).setAttribute('aria-describedby', span.id);
      if (box.tagName !== 'FIELDSET') control.setAttribute('aria-invalid', 'true');
      return control;
    }

    /* {field: [text]} or, for lists, {field: {index: [text]}}, as the API's "fields". */
    function show(errors, focus) {
      clear();
      const names = Object.keys(errors || {});
      const known = order();
      names.sort((a, b) => (known.indexOf(a) + 1 || 999) - (known.indexOf(b) + 1 || 999));
      let first = null;
      for (const name of names) {
        const control = mark(name, errors[name]);
        first = first || control;
        const link = Object.assign(document.createElement('a'), {href: `#${control ? name : form.id}`,
          textContent: line(name, errors[name])});
        const item = document.createElement('li');
        item.append(link);
        $('error-list').append(item);
      }
      if (!names.length) return;
      $('error-summary').querySelector('p').textContent = heading(names.length);
      $('error-summary').hidden = false;
      if (focus && first) first.focus();
    }

    return {clear, show, line};
  };
})(window.BZ = window.BZ || {});
