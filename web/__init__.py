"""What the website and the REST API of every app share: GOV.UK form rendering and widgets, paging,
safe spreadsheet downloads, the navigation, template tags, and the API's errors and pagination.

It imports no app, so every app can use it."""
