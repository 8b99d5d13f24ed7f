/* Starts Swagger UI on /api/docs from bundled files (no CDN, no inline script: the page's
   Content-Security-Policy allows scripts from this server only). */
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  window.ui = window.SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    validatorUrl: null, // never ask validator.swagger.io
    persistAuthorization: false, // a pasted token stays in memory, not in localStorage
  });
});
