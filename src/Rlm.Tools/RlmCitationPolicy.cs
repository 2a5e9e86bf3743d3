namespace Rlm.Tools;

/// <summary>What the host does with the citations of a final answer (<see cref="RlmOptions.CitationPolicy"/>).</summary>
public enum RlmCitationPolicy
{
    /// <summary>Citations are not parsed; <see cref="RlmResult.Citations"/> is empty.</summary>
    Off,

    /// <summary>Citations are parsed and checked against the context, and reported in <see cref="RlmResult.Citations"/> and an <see cref="RlmCitationsChecked"/> event.</summary>
    Report,

    /// <summary>
    /// As <see cref="Report"/>; when a citation fails, the root model gets one more turn, told which citations failed, to fix
    /// or drop them. That turn counts as an iteration and against the run's budgets.
    /// </summary>
    Repair,
}
