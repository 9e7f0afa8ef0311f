// upload.js makes the upload form take dropped files and send each one to
// the JSON API with progress, showing a result per file. Without it the same
// form posts to /upload and the server renders the same results.
// Everything from the server is inserted with textContent, never as HTML.

const form = document.getElementById('upload-form');

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    node.setAttribute(k, v);
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

function problemText(p) {
  let s = (p.location || '/') + ': ' + p.message;
  if (p.expected) {
    s += ' (expected ' + p.expected + ')';
  }
  if (p.hint) {
    s += '; hint: ' + p.hint;
  }
  return s;
}

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.getAttribute('content') : '';
}

function send(file, progress) {
  return new Promise((resolve) => {
    const body = new FormData();
    body.append('files', file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', form.dataset.api);
    xhr.setRequestHeader('Accept', 'application/json');
    const token = csrfToken();
    if (token) {
      xhr.setRequestHeader('X-CSRF-Token', token);
    }
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) {
        progress.max = e.total;
        progress.value = e.loaded;
      }
    });
    xhr.addEventListener('load', () => {
      let data = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch (err) {
        data = null;
      }
      resolve({ status: xhr.status, data });
    });
    xhr.addEventListener('error', () => resolve({ status: 0, data: null }));
    xhr.send(body);
  });
}

function renderSummary(summary, failures) {
  summary.replaceChildren();
  if (failures.length === 0) {
    summary.hidden = true;
    return;
  }
  const alert = el('div', { role: 'alert' });
  alert.append(el('h2', { class: 'govuk-error-summary__title' }, 'There is a problem'));
  const body = el('div', { class: 'govuk-error-summary__body' });
  const list = el('ul', { class: 'govuk-list govuk-error-summary__list' });
  for (const f of failures) {
    for (const line of f.lines) {
      const li = el('li');
      li.append(el('a', { href: '#' + f.anchor }, f.name + ': ' + line));
      list.append(li);
    }
  }
  body.append(list);
  alert.append(body);
  summary.append(alert);
  summary.hidden = false;
  summary.focus();
}

async function uploadAll(files) {
  const results = document.getElementById('upload-results');
  const summary = document.getElementById('error-summary');
  results.replaceChildren();
  const failures = [];
  let n = 0;
  for (const file of files) {
    n += 1;
    const anchor = 'result-' + n;
    const item = el('li', { id: anchor, class: 'upload-result' });
    item.append(el('h3', { class: 'upload-file' }, file.name));
    const label = el('span', { class: 'visually-hidden' }, 'Upload progress for ' + file.name);
    const progress = el('progress', { max: '1', value: '0' });
    progress.setAttribute('aria-label', 'Upload progress for ' + file.name);
    item.append(label, progress);
    const status = el('p', { class: 'upload-status', role: 'status' }, 'Uploading…');
    item.append(status);
    results.append(item);

    const { status: code, data } = await send(file, progress);
    progress.value = progress.max;
    if (code === 201 && data && Array.isArray(data.receipts)) {
      item.classList.add('upload-ok');
      const r = data.receipts[0] || {};
      status.textContent = 'Stored: review ' + r.review_id + ', version ' + r.version + ' (' + r.outcome + ')';
      const dl = el('p', { class: 'upload-hash' }, 'Content SHA-256: ' + r.content_sha256);
      item.append(dl);
      if (r.review_id) {
        const p = el('p');
        p.append(el('a', { href: '/reviews/' + encodeURIComponent(r.review_id) }, 'View review ' + r.review_id));
        item.append(p);
      }
      continue;
    }
    item.classList.add('upload-failed');
    const err = (data && data.error) || {};
    const problems = Array.isArray(err.problems) ? err.problems : [];
    status.textContent = 'Not stored: ' + (err.message || ('the server answered ' + code));
    const lines = [];
    if (problems.length > 0) {
      const list = el('ul', { class: 'upload-problems' });
      for (const p of problems) {
        const text = problemText(p);
        lines.push(text);
        list.append(el('li', {}, text));
      }
      item.append(list);
    } else {
      lines.push(err.message || ('the server answered ' + code));
    }
    failures.push({ name: file.name, anchor, lines });
  }
  renderSummary(summary, failures);
}

if (form) {
  const input = document.getElementById('files');
  const zone = document.getElementById('drop-zone');
  form.addEventListener('submit', (e) => {
    if (!input.files || input.files.length === 0) {
      return; // let the server explain that no file was chosen
    }
    e.preventDefault();
    uploadAll(Array.from(input.files));
  });
  if (zone) {
    zone.hidden = false;
    zone.addEventListener('dragover', (e) => {
      e.preventDefault();
      zone.classList.add('drop-active');
    });
    zone.addEventListener('dragleave', () => zone.classList.remove('drop-active'));
    zone.addEventListener('drop', (e) => {
      e.preventDefault();
      zone.classList.remove('drop-active');
      if (e.dataTransfer && e.dataTransfer.files.length > 0) {
        uploadAll(Array.from(e.dataTransfer.files));
      }
    });
  }
}
