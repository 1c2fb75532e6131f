using System.Globalization;
using AccelBroker.Agent.Devices;
using TorchSharp;

namespace AccelBroker.Agent.Isolation.Worker;

/// <summary>
/// Entry point of a slice's worker process (<c>AccelBroker.Agent worker …</c>): the only place libtorch touches
/// tenant bytes. It serves one agent over its stdin and stdout until the agent closes the pipe, and dies with it.
/// </summary>
internal static class WorkerMain
{
    public const string Verb = "worker";

    public static int Run(IReadOnlyList<string> args)
    {
        // Before anything can print: fd 1 becomes the protocol, and stray output goes to stderr.
        Stream output = LibC.TakeStdoutForProtocol();
        var writer = new FrameWriter(output);
        string device = "cpu";
        int threads = 1;
        int lanes = 1;
        int agent = 0;
        for (int i = 0; i + 1 < args.Count; i += 2)
        {
            switch (args[i])
            {
                case "--device":
                    device = args[i + 1];
                    break;
                case "--threads":
                    threads = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                case "--agent-pid":
                    agent = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                case "--lanes":
                    lanes = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                default:
                    Console.Error.WriteLine($"worker: unknown option {args[i]}");
                    return 2;
            }
        }

        if (agent > 0)
        {
            LibC.DieWithParent(agent);
        }
        if (args.Contains("--huge-pages"))
        {
            NativeEnvironment.EnableHugePageAllocation();
        }

        ComputeDevice resolved = DeviceProbe.Resolve(device);
        if (torch.get_num_threads() != threads)
        {
            torch.set_num_threads(threads);
        }

        WarmUpProcess(resolved);
        var server = new WorkerServer(resolved, lanes, new FrameReader(Console.OpenStandardInput()), writer);
        server.Serve();
        return 0;
    }

    /// <summary>
    /// Touches what every first forward pass would otherwise pay for inside its measurement: the intra-op thread
    /// pool, the allocator, the operator dispatch. A slice's first model is then charged for itself only.
    /// </summary>
    private static void WarmUpProcess(ComputeDevice device)
    {
        using var scope = torch.NewDisposeScope();
        using var mode = torch.inference_mode();
        torch.Tensor x = torch.ones([64, 256], device: device.TorchDevice);
        torch.Tensor w = torch.ones([256, 256], device: device.TorchDevice);
        _ = torch.nn.functional.relu(x.matmul(w).add(1)).sum().cpu().item<float>();
        torch.Tensor image = torch.ones([1, 3, 32, 32], device: device.TorchDevice);
        torch.Tensor kernel = torch.ones([8, 3, 3, 3], device: device.TorchDevice);
        _ = torch.nn.functional.conv2d(image, kernel).clone().contiguous().sum().cpu().item<float>();
        // The TorchScript interpreter and its profiling executor too, which run twice before they settle.
        using (torch.jit.CompilationUnit unit = torch.jit.compile("def warm(x: Tensor) -> Tensor:\n    return (x * 2.0).relu().clone()\n"))
        {
            for (int i = 0; i < 3; i++)
            {
                _ = unit.invoke("warm", x);
            }
        }

        LibC.TrimHeap();
    }
}
