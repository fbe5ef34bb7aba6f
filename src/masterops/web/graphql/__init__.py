"""Read-only GraphQL at ``/graphql`` (strawberry) over the reads of the JSON API."""

from masterops.web.graphql.endpoint import GraphQLEndpoint

__all__ = ["GraphQLEndpoint"]
