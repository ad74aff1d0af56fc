// Posts the local sign-in form at once, as the WHMCS addon's page does
// (a script file: the page's CSP allows no inline script).
"use strict";
document.getElementById("post").submit();
