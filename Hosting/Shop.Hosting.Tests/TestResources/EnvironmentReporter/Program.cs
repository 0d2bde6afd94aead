using System.Collections;

var app = WebApplication.CreateBuilder(args).Build();

app.MapGet("/health", () => "Healthy");
app.MapGet("/env", () => Environment.GetEnvironmentVariables()
    .Cast<DictionaryEntry>()
    .ToDictionary(e => (string)e.Key, e => (string?)e.Value));

app.Run();
