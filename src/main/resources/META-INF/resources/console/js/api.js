// The one place that talks to the service: the bearer key from sessionStorage on every call, no cookies.
const KEY = 'tessera.apiKey';

export const session = {
  key: () => sessionStorage.getItem(KEY),
  set: (key) => sessionStorage.setItem(KEY, key),
  clear: () => sessionStorage.removeItem(KEY),
};

/** A refused call: the status and the service's error.message (OpenAI-style body) or the status line. */
export class ApiError extends Error {
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function headers(extra) {
  return { Authorization: 'Bearer ' + session.key(), ...extra };
}

async function refusal(res) {
  let message = res.status + ' ' + res.statusText;
  let code;
  try {
    const body = await res.json();
    if (body && body.error) {
      message = body.error.message || message;
      code = body.error.code;
    }
  } catch (e) {
    // not JSON: the status line says it
  }
  return new ApiError(res.status, message, code);
}

/** GET/POST/DELETE JSON; resolves to the parsed body (null for 204), rejects with ApiError. */
export async function call(method, path, body) {
  const init = { method, headers: headers(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    credentials: 'omit' };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  if (!res.ok) {
    throw await refusal(res);
  }
  return res.status === 204 ? null : res.json();
}

export const get = (path) => call('GET', path);

/** A query string from the entries whose value is set. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') {
      q.set(k, v);
    }
  }
  const s = q.toString();
  return s ? '?' + s : '';
}

/**
 * Multipart upload through XMLHttpRequest, the one browser API that reports upload progress:
 * onProgress(loaded, total) as the body goes out; resolves to the parsed 201 body, rejects with ApiError.
 */
export function upload(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    xhr.setRequestHeader('Authorization', 'Bearer ' + session.key());
    xhr.responseType = 'json';
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) {
        onProgress(e.loaded, e.total);
      }
    });
    xhr.addEventListener('load', () => {
      const body = xhr.response;
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve(body);
      } else {
        const err = body && body.error ? body.error : {};
        reject(new ApiError(xhr.status, err.message || ('HTTP ' + xhr.status), err.code));
      }
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, 'the upload failed (network)')));
    xhr.send(form);
  });
}

/**
 * POSTs a streaming request and calls onEvent(json) for each server-sent event until `data: [DONE]`; an error
 * event (after the first byte) rejects with its message. The body is read through a ReadableStream, so text
 * shows as it arrives.
 */
export async function stream(path, body, onEvent, signal) {
  const res = await fetch(path, { method: 'POST', headers: headers({ 'Content-Type': 'application/json',
    Accept: 'text/event-stream' }), body: JSON.stringify({ ...body, stream: true }), credentials: 'omit', signal });
  if (!res.ok) {
    throw await refusal(res);
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) {
      return;
    }
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = event.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
      if (data === '[DONE]') {
        return;
      }
      if (data) {
        const json = JSON.parse(data);
        if (json.error) {
          throw new ApiError(200, json.error.message || 'the stream failed', json.error.code);
        }
        onEvent(json);
      }
    }
  }
}
