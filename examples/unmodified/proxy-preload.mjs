// A preload for unmodified Node code that uses the global fetch: Node's own fetch reads no proxy
// variables (Node 20), so this makes it follow HTTPS_PROXY / HTTP_PROXY / NO_PROXY, as curl does.
// Nothing in the app changes; only how it is started:
//
//   npm ci --prefix examples/unmodified
//   HTTPS_PROXY=http://127.0.0.1:8080 NODE_EXTRA_CA_CERTS=mock-ca.pem \
//     node --import ./examples/unmodified/proxy-preload.mjs your-app.mjs
//
// (CommonJS apps, or Node before 20.6: `node -r` with the same two lines written with require.)
import { EnvHttpProxyAgent, setGlobalDispatcher } from 'undici';

setGlobalDispatcher(new EnvHttpProxyAgent());
