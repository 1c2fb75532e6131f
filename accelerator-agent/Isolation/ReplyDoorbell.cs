using AccelBroker.Agent.Isolation.Protocol;
using Google.Protobuf;

namespace AccelBroker.Agent.Isolation;

/// <summary>
/// The head of an input lane, through which a worker can answer a run in shared memory instead of on its pipe.
/// The agent arms it when it means to watch for the answer; the worker leaves the answer there and rings only
/// while it is still armed; an agent that stops watching disarms it first. Whoever changes the word from
/// <see cref="Armed"/> first decides which way the answer travels, so it travels exactly one way.
/// </summary>
internal static class ReplyDoorbell
{
    /// <summary>Where a lane's tensors start: the doorbell and its answer come before them.</summary>
    public const int HeaderBytes = 4096;

    private const int StateOffset = 0;
    private const int LengthOffset = 4;
    private const int AnswerOffset = 64;
    private const int AnswerCapacity = HeaderBytes - AnswerOffset;

    private const int Idle = 0;
    private const int Armed = 1;
    private const int Rung = 2;

    /// <summary>Agent: watch this lane for the next answer.</summary>
    public static void Arm(SharedLane lane) => Volatile.Write(ref lane.Int32At(StateOffset), Armed);

    /// <summary>Agent: whether the answer is in the lane.</summary>
    public static bool IsRung(SharedLane lane) => Volatile.Read(ref lane.Int32At(StateOffset)) == Rung;

    /// <summary>Agent: stop watching. False when the worker rang first: then the answer is in the lane.</summary>
    public static bool TryDisarm(SharedLane lane) =>
        Interlocked.CompareExchange(ref lane.Int32At(StateOffset), Idle, Armed) == Armed;

    /// <summary>Agent: takes the answer of a rung lane and leaves it idle.</summary>
    public static WorkerReply Take(SharedLane lane)
    {
        int length = Volatile.Read(ref lane.Int32At(LengthOffset));
        Volatile.Write(ref lane.Int32At(StateOffset), Idle);
        if (length is <= 0 or > AnswerCapacity)
        {
            throw new InvalidDataException($"the answer in lane shared memory claims {length} bytes, outside 1..{AnswerCapacity}");
        }

        // Parsed from a copy: the worker can still write the lane while this reads it.
        return WorkerReply.Parser.ParseFrom(lane.Span(AnswerOffset, length).ToArray());
    }

    /// <summary>
    /// Worker: leaves <paramref name="reply"/> in the lane and rings, if the agent still watches and the answer
    /// fits. False means it must go on the pipe.
    /// </summary>
    public static bool TryRing(SharedLane lane, WorkerReply reply)
    {
        if (Volatile.Read(ref lane.Int32At(StateOffset)) != Armed)
        {
            return false;
        }

        int length = reply.CalculateSize();
        if (length is 0 or > AnswerCapacity)
        {
            return false;
        }

        reply.WriteTo(lane.Span(AnswerOffset, length));
        Volatile.Write(ref lane.Int32At(LengthOffset), length);
        // A full fence: the answer and its length are visible before the agent can see the bell.
        return Interlocked.CompareExchange(ref lane.Int32At(StateOffset), Rung, Armed) == Armed;
    }
}
