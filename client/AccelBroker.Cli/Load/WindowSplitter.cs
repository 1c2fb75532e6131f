using AccelBroker.Client;

namespace AccelBroker.Cli.Load;

/// <summary>
/// Cuts calls, in the order they completed, into <see cref="WindowRule"/> windows as they come: a window closes at
/// the first completion at least <see cref="WindowRule.Length"/> after it opened once it holds
/// <see cref="WindowRule.MinRequests"/> calls, and the next opens there. <see cref="Finish"/> folds a short tail
/// into the last window, so every measured call is in exactly one window.
/// </summary>
internal sealed class WindowSplitter(WindowRule rule)
{
    private readonly List<LoadWindow> _windows = [];
    private readonly List<RequestRecord> _current = [];
    private List<RequestRecord> _last = [];
    private TimeSpan _start = TimeSpan.Zero;

    /// <summary>The windows closed so far.</summary>
    public IReadOnlyList<LoadWindow> Windows => _windows;

    /// <summary>The windows of calls already in completion order, as a finished run reports them.</summary>
    public static IReadOnlyList<LoadWindow> Split(IEnumerable<RequestRecord> byCompletion, WindowRule rule)
    {
        var splitter = new WindowSplitter(rule);
        foreach (RequestRecord record in byCompletion)
        {
            splitter.Add(record);
        }

        return splitter.Finish();
    }

    public void Add(RequestRecord record)
    {
        _current.Add(record);
        TimeSpan end = record.Completed;
        if (end - _start >= rule.Length && _current.Count >= rule.MinRequests)
        {
            _windows.Add(Summarize(_windows.Count, _start, end, _current));
            _last = [.. _current];
            _current.Clear();
            _start = end;
        }
    }

    /// <summary>Closes the run: a tail shorter than a window, or with fewer calls than a window needs, joins the last window.</summary>
    public IReadOnlyList<LoadWindow> Finish()
    {
        if (_current.Count == 0)
        {
            return _windows;
        }

        TimeSpan end = _current.Max(r => r.Completed);
        if (_windows.Count == 0)
        {
            _windows.Add(Summarize(0, _start, end, _current));
        }
        else
        {
            LoadWindow last = _windows[^1];
            _windows[^1] = Summarize(last.Index, last.Start, end, [.. _last, .. _current]);
        }

        _last = [.. _last, .. _current];
        _current.Clear();
        _start = end;
        return _windows;
    }

    public static LoadWindow Summarize(int index, TimeSpan start, TimeSpan end, IReadOnlyList<RequestRecord> records)
    {
        double[] latencies = [.. records.Where(r => r.Succeeded).Select(r => r.LatencyMs).Order()];
        double seconds = (end - start).TotalSeconds;
        return new LoadWindow(
            index,
            start,
            end,
            records.Count,
            latencies.Length,
            seconds > 0 ? latencies.Length / seconds : 0,
            latencies.Length > 0 ? latencies.Average() : 0,
            latencies.Length > 0 ? NearestRank.Percentile(latencies, 95) : 0);
    }
}
