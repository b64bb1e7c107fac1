/*!
 * biometric-kz-mock Flow Widget: the offline stand-in for
 * https://remote.biometric.kz/widget/flow-widget.umd.js.
 *
 * The vendor's contract as front ends use it [seen]:
 *   <script src="https://remote.biometric.kz/widget/flow-widget.umd.js"></script>
 *   window.FlowWidget.startSession({id: sessionId, selector: '#flow-widget', locale: 'ru'});
 *   window.addEventListener('finish', function (e) { ... e.detail ... });
 *
 * What this script does [mock, README "Front end: widget, iframe, WebView"]: it mounts an iframe of
 * the mock's page, /flow/{id}?web_view=true&locale=..., into the selected element (sized 100% x 100%
 * of it), listens for the message the page posts to its parent when the flow ends, checks that the
 * message came from that iframe, and dispatches
 *   new CustomEvent('finish', {detail: {session_id, status: 'FINISHED' | 'FAILED', success}})
 * on window. When the page cannot run the session (unknown, finished, expired, evicted), the iframe
 * shows why and the widget dispatches 'flowwidget:error' with {session_id, reason, message}.
 *
 * Plain ES5, no build step: it is served as it is written.
 */
(function (root, factory) {
  'use strict';
  if (typeof define === 'function' && define.amd) {
    define([], function () { return factory(root); });
  } else if (typeof module === 'object' && module.exports) {
    module.exports = factory(root);
  } else {
    root.FlowWidget = factory(root);
  }
}(typeof self !== 'undefined' ? self : this, function (root) {
  'use strict';

  var LOCALES = ['ru', 'en', 'kz'];
  var PREFIX = 'FlowWidget.startSession: ';

  /** The mock's address: where this script was loaded from (its /widget/ folder's parent). */
  var loadedFrom = (function () {
    var doc = root && root.document;
    var script = doc && doc.currentScript;
    if (!script || !script.src) {
      return null;
    }
    try {
      return new URL('../', script.src).href;
    } catch (e) {
      return null;
    }
  }());

  function fail(message, Kind) {
    throw new (Kind || Error)(PREFIX + message);
  }

  /** The element to mount into: a CSS selector or the element itself. */
  function containerOf(selector, doc) {
    if (selector && typeof selector === 'object' && selector.nodeType === 1) {
      return selector;
    }
    if (typeof selector !== 'string' || selector.trim() === '') {
      fail('`selector` is required: a CSS selector of the element to mount the flow into, such as "#flow-widget"', TypeError);
    }
    var element;
    try {
      element = doc.querySelector(selector);
    } catch (e) {
      fail('`selector` ' + JSON.stringify(selector) + ' is not a valid CSS selector (' + e.message + ')', SyntaxError);
    }
    if (!element) {
      fail('no element matches the selector ' + JSON.stringify(selector) + '; create it before starting the session');
    }
    return element;
  }

  function localeOf(locale) {
    if (locale === undefined || locale === null || locale === '') {
      return 'ru';
    }
    if (LOCALES.indexOf(locale) < 0) {
      fail('`locale` must be one of ' + LOCALES.join(', ') + ', got ' + JSON.stringify(locale), RangeError);
    }
    return locale;
  }

  /** The sessions running, by container, so that starting another one in the same element replaces it. */
  var running = [];

  function stop(handle) {
    root.removeEventListener('message', handle.listener);
    running = running.filter(function (h) { return h !== handle; });
    if (handle.iframe.parentNode) {
      handle.iframe.parentNode.removeChild(handle.iframe);
    }
  }

  function dispatch(name, detail) {
    root.dispatchEvent(new root.CustomEvent(name, {detail: detail}));
  }

  /**
   * Mounts the flow of session `options.id` into the element `options.selector` names, in
   * `options.locale` (ru by default, en or kz). `options.baseUrl` overrides the mock's address,
   * which is otherwise where this script came from. Returns a handle with `iframe` and `destroy()`.
   * Throws, with a message that says what to change, on a call that cannot work.
   */
  function startSession(options) {
    var doc = root && root.document;
    if (!doc || typeof root.addEventListener !== 'function') {
      fail('needs a browser window (this script was loaded without one)');
    }
    if (!options || typeof options !== 'object') {
      fail('pass an object: {id: sessionId, selector: "#flow-widget", locale: "ru"}', TypeError);
    }
    var id = options.id;
    if (typeof id !== 'string' || id.trim() === '') {
      fail('`id` is required: the session_id your backend got from POST /api/v1/flows/session/create/', TypeError);
    }
    var container = containerOf(options.selector, doc);
    var locale = localeOf(options.locale);
    var base = options.baseUrl || loadedFrom;
    if (!base) {
      fail('cannot tell the mock\'s address: load this script with a <script src> or pass `baseUrl`');
    }
    var src = new URL('flow/' + encodeURIComponent(id.trim()), base);
    src.searchParams.set('web_view', 'true');
    src.searchParams.set('locale', locale);

    running.filter(function (h) { return h.container === container; }).forEach(stop);

    var iframe = doc.createElement('iframe');
    iframe.src = src.href;
    iframe.title = 'biometric.kz';
    iframe.setAttribute('allow', 'camera; microphone; fullscreen');
    iframe.setAttribute('data-flow-widget-frame', '');
    iframe.style.width = '100%';
    iframe.style.height = '100%';
    iframe.style.border = '0';
    iframe.style.display = 'block';

    var handle = {
      id: id,
      container: container,
      iframe: iframe,
      listener: null,
      destroy: function () { stop(handle); }
    };
    handle.listener = function (event) {
      // Only the page in this widget's own iframe may end its session.
      if (event.source !== iframe.contentWindow || event.origin !== src.origin) {
        return;
      }
      var data = event.data;
      if (!data || typeof data !== 'object') {
        return;
      }
      if (data.event === 'finish') {
        container.setAttribute('data-flow-widget', 'finished');
        root.removeEventListener('message', handle.listener);
        dispatch('finish', {session_id: data.session_id, status: data.status, success: data.success === true});
      } else if (data.event === 'error') {
        container.setAttribute('data-flow-widget', 'error');
        dispatch('flowwidget:error', {session_id: data.session_id, reason: data.reason, message: data.message});
      }
    };
    root.addEventListener('message', handle.listener);
    running.push(handle);

    container.setAttribute('data-flow-widget', 'running');
    container.appendChild(iframe);
    return handle;
  }

  return {startSession: startSession, version: '1'};
}));
