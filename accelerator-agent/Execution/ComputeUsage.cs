namespace AccelBroker.Agent.Execution;

/// <summary>One slice's use of the execution slots.</summary>
/// <param name="Waiting">Executions waiting for a slot now.</param>
/// <param name="SecondsUsed">Execution time of its runs that ended, since the scheduler first saw the slice.</param>
/// <param name="Running">Executions holding a slot now.</param>
internal readonly record struct ComputeUsage(int Waiting, double SecondsUsed, int Running = 0);
