// Application Insights on a Log Analytics workspace (workspace-based; classic resources are retired):
// https://learn.microsoft.com/azure/azure-monitor/app/create-workspace-resource
param location string
param tags object
param logAnalyticsName string
param applicationInsightsName string

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    // Local (instrumentation key) ingestion stays on: the broker's own OpenTelemetry exporter is configured from
    // APPLICATIONINSIGHTS_CONNECTION_STRING alone. The connection string is an ingestion endpoint, not a secret
    // that grants reading anything.
    DisableLocalAuth: false
  }
}

output connectionString string = appInsights.properties.ConnectionString
output name string = appInsights.name
