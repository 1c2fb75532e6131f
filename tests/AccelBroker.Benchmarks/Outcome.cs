namespace AccelBroker.Benchmarks;

internal enum Outcome
{
    Pass,
    Fail,
    Skipped,
    Crashed,
}
