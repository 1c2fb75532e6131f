namespace AccelBroker.Broker.Enrollment;

/// <summary>Where enrolment tokens are kept. Calls are serialized by <see cref="EnrollmentBook"/>.</summary>
internal interface IEnrollmentTokenStore
{
    IReadOnlyList<EnrollmentTokenRecord> Load();

    /// <summary>Replaces what is stored; all or nothing.</summary>
    void Save(IReadOnlyList<EnrollmentTokenRecord> tokens);
}
