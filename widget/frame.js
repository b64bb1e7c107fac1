/*!
 * biometric-kz-mock: what the end-user page does when it runs inside a frame (the Flow Widget's
 * iframe, any host's iframe, a WebView that injects a parent). Outside a frame it does nothing:
 * the page's forms work without JavaScript and end with the integrator's redirect or the done screen.
 *
 * Inside a frame [mock, README "Front end: widget, iframe, WebView"]:
 * - every form gets a hidden field in_frame=1, so that the flow's end shows the done screen inside
 *   the frame instead of loading the integrator's redirect into it;
 * - the done screen posts {event: 'finish', session_id, status: 'FINISHED' | 'FAILED', success} to
 *   window.parent, and a screen that cannot run the session (unknown, finished, expired, evicted,
 *   a bad redirect) posts {event: 'error', session_id, reason, message}. Target origin '*': the
 *   message carries no personal data, and the page cannot know its host's origin.
 */
(function () {
  'use strict';
  if (window.parent === window) {
    return;
  }
  var forms = document.querySelectorAll('form');
  for (var i = 0; i < forms.length; i++) {
    var field = document.createElement('input');
    field.type = 'hidden';
    field.name = 'in_frame';
    field.value = '1';
    forms[i].appendChild(field);
  }
  var screen = document.querySelector('[data-flow-event]');
  if (!screen) {
    return;
  }
  var path = /\/flow\/([^\/]+)/.exec(window.location.pathname);
  var message = {event: screen.getAttribute('data-flow-event'), session_id: path ? decodeURIComponent(path[1]) : null};
  if (message.event === 'finish') {
    message.success = screen.getAttribute('data-success') === 'true';
    message.status = message.success ? 'FINISHED' : 'FAILED';
  } else {
    var title = screen.querySelector('h1');
    message.reason = screen.getAttribute('data-reason');
    message.message = title ? title.textContent : '';
  }
  window.parent.postMessage(message, '*');
}());
