// Staffroom's GraphiQL: the endpoint beside this page, the headers editor open
// for a bearer token, and a first tab that walks through signing up.
(function () {
  'use strict';

  var flow = [
    '# Welcome to Staffroom. This tab walks through the first steps; run each',
    '# operation with the ▶ button (it asks which one) or Ctrl-Enter.',
    '#',
    '# 1. Run SignUp. It emails a verification link (in development the server',
    '#    logs the email): copy the token of its link into the token variable.',
    '# 2. Run VerifyEmail. Copy the accessToken it returns into the Headers',
    '#    editor below: {"Authorization": "Bearer <accessToken>"}',
    '# 3. Run CreateOrganization (you become its owner). Copy its id into the',
    '#    organizationId variable.',
    '# 4. Run SwitchOrganization, and replace the token in the Headers editor',
    '#    with the accessToken it returns: it carries the organization.',
    '# 5. Run Viewer: who you are, where, and what you may do.',
    '#',
    '# A request with an invalid or expired token is refused with HTTP 401;',
    '# empty the Headers editor ({}) to sign up or log in again.',
    '',
    'mutation SignUp($email: String!, $password: String!) {',
    '  signUp(input: {email: $email, password: $password, firstName: "Ada", lastName: "Lovelace"}) {',
    '    email',
    '    verificationSent',
    '  }',
    '}',
    '',
    'mutation VerifyEmail($token: String!, $password: String!) {',
    '  verifyEmail(token: $token, password: $password) {',
    '    accessToken',
    '    refreshToken',
    '  }',
    '}',
    '',
    'mutation CreateOrganization {',
    '  createOrganization(input: {name: "River Club", preset: ACTIVITY}) {',
    '    id',
    '    name',
    '  }',
    '}',
    '',
    'mutation SwitchOrganization($organizationId: ID!) {',
    '  switchOrganization(organizationId: $organizationId) {',
    '    accessToken',
    '    refreshToken',
    '  }',
    '}',
    '',
    'query Viewer {',
    '  viewer {',
    '    user { name }',
    '    organization { name }',
    '    permissions',
    '    memberships { organization { name } role { key } }',
    '  }',
    '}',
    ''
  ].join('\n');

  var variables = JSON.stringify({
    email: 'ada@example.com',
    password: 'a long passphrase',
    token: 'from the emailed link',
    organizationId: 'org_…'
  }, null, 2);

  var fetcher = GraphiQL.createFetcher({ url: new URL('graphql', window.location.href).href });

  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultTabs: [{ query: flow, variables: variables, headers: '{}' }],
      defaultEditorToolsVisibility: 'headers',
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false
    })
  );
})();
