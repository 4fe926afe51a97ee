/**
 * Microsoft Graph's delegated permission ids the home app registers, by id
 * (microsoftgraph/microsoft-graph-docs-contrib:concepts/includes/permissions-ids.md; the delegated profiles'
 * ones also in merill/graph-permissions-explorer), for the tests that read them back from infra/.
 * @module
 */
export const GRAPH_DELEGATED: Readonly<Record<string, string>> = {
  '37f7f235-527c-4136-accd-4a02d197296e': 'openid',
  '14dad69e-099b-42c9-810b-d002981feec1': 'profile',
  '7427e0e9-2fba-42fe-b0c0-848c9e6a8182': 'offline_access',
  '652390e4-393a-48de-9484-05f9b1212954': 'IMAP.AccessAsUser.All',
  'd7b7f2d9-0f45-4ea1-9d42-e50810c06991': 'POP.AccessAsUser.All',
  '258f6531-6087-4cc4-bb90-092c5fb3ed3f': 'SMTP.Send',
  '9769c687-087d-48ac-9cb3-c37dde652038': 'EWS.AccessAsUser.All',
  'e383f46e-2787-4529-855e-0e479a3ffac0': 'Mail.Send',
  '1ec239c2-d7c9-4623-a91a-a9775856bb36': 'Calendars.ReadWrite',
  'd56682ec-c09e-4743-aaf4-1a3aac4caa21': 'Contacts.ReadWrite',
  'ba47897c-39ec-4d83-8086-ee8256fa737d': 'People.Read',
};
