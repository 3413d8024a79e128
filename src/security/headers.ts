// Security headers on every response. The patron pages use no scripts, no
// third-party assets and no inline styles, so the policy can be strict;
// oidc-provider adds the hash of its own inline script (form_post, logout)
// to script-src when it renders one.
import type { Middleware } from 'koa';

// No form-action: Chrome applies it to the redirect that follows the
// sign-in POST, which leaves for the vendor's registered redirect URI.
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function securityHeaders(): Middleware {
  return async (ctx, next) => {
    ctx.set('Content-Security-Policy', CSP);
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
    ctx.set('Cross-Origin-Resource-Policy', 'same-origin');
    ctx.set('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), interest-cohort=()');
    if (ctx.secure) ctx.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    await next();
    // CORS-enabled endpoints (discovery, JWKS, token, userinfo) are read by
    // vendors' browsers too: let them be.
    if (ctx.response.get('Access-Control-Allow-Origin')) ctx.remove('Cross-Origin-Resource-Policy');
  };
}
