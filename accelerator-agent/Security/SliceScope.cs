using System.Collections.Concurrent;
using AccelBroker.Protocol.V1;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace AccelBroker.Agent.Security;

/// <summary>
/// The slice a request names, found by its descriptor (a top-level <c>slice_id</c>, or a streaming run's header), so
/// a request type added later with a slice id is checked against the caller's token without anyone remembering to.
/// </summary>
internal static class SliceScope
{
    private static readonly ConcurrentDictionary<System.Type, FieldDescriptor?> Fields = new();

    /// <summary>The slice id the message names; <see langword="null"/> when it names none (chunks, uploads, echo).</summary>
    public static string? Of(object? message) => message switch
    {
        null => null,
        // The data path's requests first, without reflection.
        RunRequest run => run.SliceId,
        LoadModelRequest load => load.SliceId,
        UnloadModelRequest unload => unload.SliceId,
        ListModelsRequest list => list.SliceId,
        RunStreamRequest stream => stream.KindCase == RunStreamRequest.KindOneofCase.Header ? stream.Header.Request?.SliceId ?? "" : null,
        IMessage m => Fields.GetOrAdd(m.GetType(), static (_, d) => d.FindFieldByName("slice_id") is { FieldType: FieldType.String } f ? f : null, m.Descriptor) is { } field
            ? (string)field.Accessor.GetValue(m)
            : null,
        _ => null,
    };
}
