using AccelBroker.Agent;
using AccelBroker.Agent.Models;
using AccelBroker.Hosting.Errors;
using Xunit;

namespace AccelBroker.Tests.Agent;

/// <summary>The agent's limits on uploads in progress: refused at once past either, freed once however an upload ends.</summary>
public sealed class UploadAdmissionTests
{
    [Fact]
    public void AnUploadPastTheConcurrentLimitIsRefusedNamingIt()
    {
        var admission = new UploadAdmission(new AgentOptions { MaxConcurrentUploads = 2, MaxUploadBytesInFlight = 1000 });
        using UploadAdmission.Reservation first = admission.Admit(10);
        using UploadAdmission.Reservation second = admission.Admit(10);

        DomainException error = Assert.Throws<DomainException>(() => admission.Admit(10));

        Assert.Equal(DomainErrorKind.ResourceExhausted, error.Kind);
        Assert.Equal("this agent is at its limit of 2 concurrent uploads (MaxUploads); retry later", error.Message);
        Assert.Equal((2, 20L), (admission.Uploads, admission.Bytes));
    }

    [Fact]
    public void AnUploadPastTheBytesInFlightIsRefusedNamingItAndEndedUploadsFreeTheirBytesOnce()
    {
        var admission = new UploadAdmission(new AgentOptions { MaxConcurrentUploads = 10, MaxUploadBytesInFlight = 1000 });
        UploadAdmission.Reservation big = admission.Admit(600);

        DomainException error = Assert.Throws<DomainException>(() => admission.Admit(401));

        Assert.Equal(DomainErrorKind.ResourceExhausted, error.Kind);
        Assert.Equal("an upload of 401 bytes would pass this agent's limit of upload bytes in flight (MaxUploadMibInFlight, 1000 bytes; 600 in use); retry later", error.Message);
        using (admission.Admit(400))
        {
            Assert.Equal((2, 1000L), (admission.Uploads, admission.Bytes));
        }

        big.Dispose();
        big.Dispose();
        Assert.Equal((0, 0L), (admission.Uploads, admission.Bytes));
        using UploadAdmission.Reservation whole = admission.Admit(1000);
        Assert.Equal((1, 1000L), (admission.Uploads, admission.Bytes));
    }
}
