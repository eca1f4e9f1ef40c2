// Artillery processor for the load scenario: times each send until its
// echo matched (the `send` step waits for it), as an artillery user would.
const { performance } = require('node:perf_hooks');

module.exports = {
  stamp(context, ee, next) {
    context.vars.t0 = performance.now();
    next();
  },
  measure(context, ee, next) {
    ee.emit('histogram', 'echo.rtt_ms', performance.now() - context.vars.t0);
    next();
  },
};
