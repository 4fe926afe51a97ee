// The home app: the vendor's multitenant Entra app registration that customers' admins consent to, declared with
// the Microsoft Graph Bicep extension (types: https://learn.microsoft.com/graph/templates/bicep/reference/applications?view=graph-bicep-1.0;
// samples: microsoftgraph/msgraph-bicep-types:quickstart-templates/). The deploying identity needs
// Application.ReadWrite.All (delegated) — e.g. the Application Administrator or Cloud Application Administrator
// directory role — to create or update it.
//
// Not declared here, and why:
// - identifierUris `api://{appId}`: the appId exists only once the application is created, and a resource cannot
//   reference its own properties, so Graph cannot take it on create (microsoftgraph/microsoft-graph-docs-contrib
//   issue #1056; the documented default "api://<appId>" is not set unless added explicitly:
//   microsoftgraph/msgraph-bicep-types issue #239). infra/scripts/postprovision.sh (azd postprovision hook) sets it
//   with `az ad app update --identifier-uris`, idempotently. It is left out of this declaration so that a
//   redeployment does not touch it: Graph Bicep resources are upserted by their client-provided key
//   (`uniqueName`) and properties a template does not set are not sent.
// - The credential: Graph Bicep cannot create passwords (addPassword is an action, not a property); the same hook
//   creates a client secret and stores it in Key Vault.
extension microsoftGraphV1

@description('Client-provided key of the application object; stable across redeployments.')
param uniqueName string
param displayName string
@description('BROKER_PUBLIC_URL, without a trailing slash.')
param publicUrl string

// Well-known resource apps (FACTS.md §5.1).
var exchangeOnlineAppId = '00000002-0000-0ff1-ce00-000000000000'
var microsoftGraphAppId = '00000003-0000-0000-c000-000000000000'

resource app 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: uniqueName
  displayName: displayName
  // Customers' admins in any organization consent to it (SPEC.md "home app").
  signInAudience: 'AzureADMultipleOrgs'
  web: {
    // Where Entra returns after admin consent, after the admin's OpenID Connect sign-in (SPEC.md
    // `GET /consent/callback`; redirect URIs go on the application object only, FACTS.md §1.4), after a
    // mailbox user's sign-in for a mailbox grant, and after a vendor staff member's sign-in to the console.
    redirectUris: [
      '${publicUrl}/consent/callback'
      '${publicUrl}/consent/signin'
      '${publicUrl}/mailbox-grants/callback'
      '${publicUrl}/console/callback'
    ]
    implicitGrantSettings: {
      enableIdTokenIssuance: false
      enableAccessTokenIssuance: false
    }
  }
  // `wids` (directory role template ids) in the admin's ID token: the broker checks that the person who consented
  // holds a role that can grant tenant-wide consent (FACTS.md: groupMembershipClaims DirectoryRole).
  groupMembershipClaims: 'DirectoryRole'
  optionalClaims: {
    // `acct` 0 = member of the tenant, 1 = guest: guests are refused (FACTS.md, optional claims).
    idToken: [
      {
        name: 'acct'
        essential: false
      }
    ]
  }
  // The support API's roles (SPEC.md "Vendor support"): assigned to vendor staff (users) or to automation
  // (applications) in the vendor tenant. Ids derived from the unique name, so they stay the same on every deployment.
  appRoles: [
    {
      id: guid(uniqueName, 'Broker.Read')
      value: 'Broker.Read'
      displayName: 'Broker reader'
      description: 'Read tenants, onboardings, appliances and audit records, and run live checks.'
      allowedMemberTypes: ['User', 'Application']
      isEnabled: true
    }
    {
      id: guid(uniqueName, 'Broker.Admin')
      value: 'Broker.Admin'
      displayName: 'Broker administrator'
      description: 'Everything Broker.Read allows, and create onboardings and appliances, rotate and revoke credentials, offboard tenants.'
      allowedMemberTypes: ['User', 'Application']
      isEnabled: true
    }
  ]
  // Application permissions (type Role) for every role of every default profile
  // (src/profiles/default-profiles.json `profiles[].roles[]`) and the broker's own `brokerRoles`
  // (Organization.Read.All); ids from FACTS.md §5.2/§5.3. Delegated permissions (type Scope) for every scope of every
  // delegated profile (`profiles[].scopes[]`, all registered on Microsoft Graph, IMAP/POP/SMTP/EWS included: the
  // IMAP/POP/SMTP OAuth page says "select Microsoft Graph … Delegated permissions"), so that the admin's consent
  // covers them for every user of the tenant. test/infra/home-app.test.ts checks this list against the
  // profiles file. The delegated `openid`, `profile` and `offline_access` scopes are listed so that the admin's
  // consent covers the OpenID Connect sign-in that follows it: MSAL always asks for all three, and Entra answers a
  // silent sign-in asking for a scope nobody consented to with consent_required (AADSTS65001) — issue 15 item 4.
  // Ids: microsoftgraph/microsoft-graph-docs-contrib:concepts/includes/permissions-ids.md (Delegated).
  requiredResourceAccess: [
    {
      resourceAppId: exchangeOnlineAppId
      resourceAccess: [
        { id: '5e5addcd-3e8d-4e90-baf5-964efab2b20a', type: 'Role' } // IMAP.AccessAsApp (exchange-imap)
        { id: 'cb842b43-da6e-4506-86fe-bb12199c656d', type: 'Role' } // POP.AccessAsApp (exchange-pop)
        { id: '7146a1f0-8703-45b3-9eae-527a64c00995', type: 'Role' } // SMTP.SendAsApp (exchange-smtp)
        { id: 'dc890d15-9560-4a4c-9b7f-a736ec74ec40', type: 'Role' } // full_access_as_app (exchange-ews)
      ]
    }
    {
      resourceAppId: microsoftGraphAppId
      resourceAccess: [
        { id: 'e2a3a72e-5f79-4c64-b1b1-878b674786c9', type: 'Role' } // Mail.ReadWrite (graph-mail)
        { id: 'b633e1c5-b582-4048-a93e-9f11b44c7e96', type: 'Role' } // Mail.Send (graph-mail)
        { id: 'ef54d2bf-783f-4e0f-bca1-3210c0444d99', type: 'Role' } // Calendars.ReadWrite (graph-calendar-contacts)
        { id: '6918b873-d17a-4dc1-b314-35f528134491', type: 'Role' } // Contacts.ReadWrite (graph-calendar-contacts)
        { id: 'df021288-bdef-4463-88db-98f22de89214', type: 'Role' } // User.Read.All (graph-directory)
        { id: '089fe4d0-434a-44c5-8827-41ba8a0b17f5', type: 'Role' } // Contacts.Read (graph-directory)
        { id: 'e1a88a34-94c4-4418-be12-c87b00e26bea', type: 'Role' } // OrgContact.Read.All (graph-directory)
        { id: 'a70e0c2d-e793-494c-94c4-118fa0a67f42', type: 'Role' } // Presence.Read.All (graph-presence)
        { id: '498476ce-e0fe-48b0-b801-37ba7e2685c6', type: 'Role' } // Organization.Read.All (brokerRoles)
        { id: '652390e4-393a-48de-9484-05f9b1212954', type: 'Scope' } // IMAP.AccessAsUser.All (user-imap)
        { id: 'd7b7f2d9-0f45-4ea1-9d42-e50810c06991', type: 'Scope' } // POP.AccessAsUser.All (user-pop)
        { id: '258f6531-6087-4cc4-bb90-092c5fb3ed3f', type: 'Scope' } // SMTP.Send (user-smtp)
        { id: '9769c687-087d-48ac-9cb3-c37dde652038', type: 'Scope' } // EWS.AccessAsUser.All (user-ews)
        { id: 'e383f46e-2787-4529-855e-0e479a3ffac0', type: 'Scope' } // Mail.Send (user-mail-send)
        { id: '1ec239c2-d7c9-4623-a91a-a9775856bb36', type: 'Scope' } // Calendars.ReadWrite (user-calendar-contacts)
        { id: 'd56682ec-c09e-4743-aaf4-1a3aac4caa21', type: 'Scope' } // Contacts.ReadWrite (user-calendar-contacts)
        { id: 'ba47897c-39ec-4d83-8086-ee8256fa737d', type: 'Scope' } // People.Read (user-calendar-contacts)
        { id: '37f7f235-527c-4136-accd-4a02d197296e', type: 'Scope' } // openid (delegated)
        { id: '14dad69e-099b-42c9-810b-d002981feec1', type: 'Scope' } // profile (delegated)
        { id: '7427e0e9-2fba-42fe-b0c0-848c9e6a8182', type: 'Scope' } // offline_access (delegated)
      ]
    }
  ]
}

// The home app's service principal in the vendor tenant: support staff get Broker.Read / Broker.Admin assigned on
// it (Enterprise applications), and the vendor tenant can itself be a consenting tenant.
resource servicePrincipal 'Microsoft.Graph/servicePrincipals@v1.0' = {
  appId: app.appId
}

output appId string = app.appId
output objectId string = app.id
output servicePrincipalId string = servicePrincipal.id
