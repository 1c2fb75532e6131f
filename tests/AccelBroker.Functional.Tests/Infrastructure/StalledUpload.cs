using AccelBroker.Protocol.V1;
using Grpc.Core;

namespace AccelBroker.Tests.Infrastructure;

/// <summary>A raw upload that sends its header and a few random 1 MiB chunks, then nothing; disposing it cancels the call.</summary>
internal sealed class StalledUpload : IDisposable
{
    private readonly AsyncClientStreamingCall<UploadModelRequest, UploadModelResponse> _call;

    public StalledUpload(AsyncClientStreamingCall<UploadModelRequest, UploadModelResponse> call)
    {
        _call = call;
    }

    public Task<UploadModelResponse> Response => _call.ResponseAsync;

    public static async Task<StalledUpload> StartAsync(StandaloneAgent agent, long declared, int chunks)
    {
        var stalled = new StalledUpload(agent.Client.UploadModel(deadline: StandaloneAgent.Deadline()));
        byte[] chunk = UploadMessages.RandomBytes(1 << 20);
        try
        {
            await stalled.WriteAsync(UploadMessages.Header(chunk, declared));
            for (int i = 0; i < chunks; i++)
            {
                await stalled.WriteAsync(UploadMessages.Chunk(chunk));
            }
        }
        catch (Exception ex) when (ex is RpcException or InvalidOperationException)
        {
            // Refused before the client finished writing: the response says why.
        }

        return stalled;
    }

    public Task WriteAsync(UploadModelRequest request) => _call.RequestStream.WriteAsync(request);

    public void Dispose() => _call.Dispose();
}
