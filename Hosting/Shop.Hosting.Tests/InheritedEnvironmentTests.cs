namespace Shop.Hosting.Tests;

/// <summary>Which of the AppHost's own variables its children (the dashboard among them) do not inherit.</summary>
public sealed class InheritedEnvironmentTests
{
    [Theory]
    [InlineData("DOTNET_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS")]
    [InlineData("ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS")]
    [InlineData("Dashboard__Frontend__AuthMode")]
    [InlineData("dashboard__otlp__authmode")]
    [InlineData("Dashboard:Frontend:AuthMode")]
    public void Inherited_dashboard_settings_are_not_passed_on(string name)
    {
        // A name no other test uses: the variable is set on this test process for the duration of the test.
        var variable = $"{name}_{Guid.NewGuid():N}";
        Environment.SetEnvironmentVariable(variable, "true");
        try
        {
            Assert.Contains(variable, InheritedEnvironment.ContractVariables());
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }
}
