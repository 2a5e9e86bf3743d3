namespace Rlm.Tools.Server.State;

/// <summary>A conversation as stored: the corpus it is over and its state after the last turn.</summary>
/// <param name="CorpusId">The corpus the conversation is over.</param>
/// <param name="Snapshot">The conversation's turns, variables, usage and cost.</param>
internal sealed record StoredConversation(string CorpusId, RlmConversationSnapshot Snapshot);

/// <summary>Conversations shared by every replica through the distributed cache: any replica continues any conversation.</summary>
internal interface IConversationStore
{
    /// <summary>Gets a conversation, or <see langword="null"/> when the id is unknown (or expired).</summary>
    Task<StoredConversation?> GetAsync(string id, CancellationToken cancellationToken);

    /// <summary>Stores a conversation's state after a turn (a later turn on any replica starts from it).</summary>
    Task SaveAsync(string id, StoredConversation conversation, CancellationToken cancellationToken);

    /// <summary>Makes a new conversation id (random, 128 bits).</summary>
    string NewId();
}
