using AccelBroker.Agent.Execution;
using Xunit;

namespace AccelBroker.Tests.Limits;

/// <summary>What libtorch's messages keep (TorchScript's reason) and drop (C++ frames, load addresses, directories).</summary>
public sealed class TorchErrorsTests
{
    [Fact]
    public void AnEnforceFailureKeepsItsReasonAndDropsItsFramesAddressesAndPaths()
    {
        const string message = """
            [enforce fail at /opt/conda/pytorch/caffe2/serialize/inline_container.cc:227] . file not found: archive/constants.pkl
            frame #0: c10::ThrowEnforceNotMet(char const*, int, char const*, std::string const&, void const*) + 0x47 (0x7faa1b2c3d4e in /home/u/.nuget/packages/libtorch-cpu-linux-x64/2.5.1/runtimes/linux-x64/native/libc10.so)
            frame #1: <unknown function> + 0x5e3a1b1 (0x7faa1e3a1b1 in /home/u/.nuget/packages/libtorch-cpu-linux-x64/2.5.1/runtimes/linux-x64/native/libtorch_cpu.so)
            """;

        string cleaned = TorchErrors.Clean(message);

        Assert.Equal("[enforce fail at inline_container.cc:227] . file not found: archive/constants.pkl", cleaned);
        LoadLimitsTests.AssertNoInternals(cleaned);
    }

    [Fact]
    public void AnInterpreterErrorLeadsWithItsReasonAndKeepsOnlyFileNamesOfItsTraceback()
    {
        const string message = """
            The following operation failed in the TorchScript interpreter.
            Traceback of TorchScript, serialized code (most recent call last):
              File "code/__torch__/demo.py", line 9, in forward
            Traceback of TorchScript, original code (most recent call last):
              File "/home/alice/models/make_models.py", line 12, in forward
            RuntimeError: mat1 and mat2 shapes cannot be multiplied (1x15 and 16x32)
            Exception raised from meta at ../aten/src/ATen/native/LinearAlgebra.cpp:193 (most recent call first):
            frame #0: c10::Error::Error(c10::SourceLocation, std::string) + 0x96 (0x7f00 in /usr/lib/libc10.so)
            """;

        string cleaned = TorchErrors.Clean(message);

        Assert.StartsWith("RuntimeError: mat1 and mat2 shapes cannot be multiplied (1x15 and 16x32) (TorchScript: ", cleaned);
        Assert.Contains("File \"code/__torch__/demo.py\", line 9", cleaned);
        Assert.Contains("File \"make_models.py\", line 12", cleaned);
        LoadLimitsTests.AssertNoInternals(cleaned);
    }

    [Fact]
    public void ABuildPathRelativeToTheSourceTreeIsCutToItsFileNameAndAUrlIsKept()
    {
        string cleaned = TorchErrors.Clean("RuntimeError: bad value at ../c10/core/TensorImpl.h:1234; see https://pytorch.org/docs/stable/jit.html");

        Assert.Equal("RuntimeError: bad value at TensorImpl.h:1234; see https://pytorch.org/docs/stable/jit.html (TorchScript: )", cleaned);
    }

    [Fact]
    public void AShapeWithZeroRowsIsNotTakenForAnAddress()
    {
        string cleaned = TorchErrors.Clean("RuntimeError: mat1 and mat2 shapes cannot be multiplied (0x15 and 16x32) at 0x555555554000 and 0x7fab");

        Assert.Equal("RuntimeError: mat1 and mat2 shapes cannot be multiplied (0x15 and 16x32) at <address> and <address> (TorchScript: )", cleaned);
    }
}
