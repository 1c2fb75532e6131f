using System.Globalization;
using AccelBroker.Hosting.Errors;

namespace AccelBroker.Broker.Internal;

/// <summary>Checks of request fields shared by several calls; each failure is an InvalidInput <see cref="DomainException"/> with a message.</summary>
internal static class RequestChecks
{
    public const int MaxHostLength = 255;

    public static void Host(string host)
    {
        if (string.IsNullOrWhiteSpace(host))
        {
            throw DomainException.Invalid("host must not be empty");
        }

        if (host.Length > MaxHostLength || host.Any(char.IsControl))
        {
            throw DomainException.Invalid(string.Create(CultureInfo.InvariantCulture, $"host must be at most {MaxHostLength} characters without control characters"));
        }
    }

    public static void Ordinal(int ordinal)
    {
        if (ordinal < 0)
        {
            throw DomainException.Invalid(string.Create(CultureInfo.InvariantCulture, $"ordinal must be 0 or greater (got {ordinal})"));
        }
    }
}
