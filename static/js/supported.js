// Lets GOV.UK Frontend know JavaScript is available before components are styled.
document.body.className += " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " govuk-frontend-supported" : "");
