using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AccelBroker.Tests.Integration;

/// <summary>A loopback OTLP/HTTP receiver that keeps every POST, so a test can read what a host exported.</summary>
internal sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<(string Path, byte[] Body)> _posts = new();

    private OtlpReceiver(WebApplication app) => _app = app;

    /// <summary>The receiver's base URL, to pass as a host's OTLP endpoint.</summary>
    public string Url => _app.Urls.First();

    /// <summary>Each request received so far: its path and its body (protobuf, so names appear as UTF-8).</summary>
    public IReadOnlyCollection<(string Path, byte[] Body)> Posts => _posts;

    public static async Task<OtlpReceiver> StartAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        // The slim builder logs to the console: its "info: Now listening on" line would land in the standard output
        // of an accel verb another test runs in this process at the same moment (CliInProcess swaps Console.Out).
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        WebApplication app = builder.Build();
        var receiver = new OtlpReceiver(app);
        app.MapPost("/{**path}", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            receiver._posts.Enqueue((context.Request.Path.Value ?? "", body.ToArray()));
            return Results.Ok();
        });
        await app.StartAsync();
        return receiver;
    }

    public static bool Contains(byte[] haystack, string needle) =>
        haystack.AsSpan().IndexOf(Encoding.UTF8.GetBytes(needle)) >= 0;

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
