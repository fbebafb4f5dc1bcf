// caviar dashboard: the shared worker that holds a browser's one event stream.
//
// Browsers open at most six HTTP/1.1 connections to one server, across all tabs; one
// EventSource per open page would stall the seventh page. So every page of the dashboard
// connects to this worker (one per browser and origin), which holds a single
// EventSource('/api/events') and passes each study's new version to every page:
//   {type: 'version', study: ID, version: N}   a study changed (and, at connect, the last known)
//   {type: 'state', state: 'live' | 'reconnecting'}
// A page posts 'close' when it goes away. Built into the caviar binary with the pages.
'use strict';

const ports = new Set();
const versions = new Map();  // study id -> the last version heard
let source = null;

function post(message) {
  for (const port of ports) port.postMessage(message);
}

function state() {
  return source && source.readyState === EventSource.OPEN ? 'live' : 'reconnecting';
}

function open() {
  source = new EventSource('/api/events');
  source.addEventListener('version', (event) => {
    let data;
    try {
      data = JSON.parse(event.data);
    } catch (e) {
      return;
    }
    versions.set(data.study, data.version);
    post({ type: 'version', study: data.study, version: data.version });
  });
  source.onopen = () => post({ type: 'state', state: 'live' });
  // EventSource reconnects by itself; the pages show that it is trying.
  source.onerror = () => post({ type: 'state', state: state() });
}

self.onconnect = (event) => {
  const port = event.ports[0];
  ports.add(port);
  port.onmessage = (message) => {
    if (message.data === 'close') ports.delete(port);
  };
  port.start();
  if (!source) open();
  for (const [study, version] of versions) port.postMessage({ type: 'version', study, version });
  port.postMessage({ type: 'state', state: state() });
};
