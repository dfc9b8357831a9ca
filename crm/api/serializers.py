"""The base of every ModelSerializer of the API: rows are named by their public ids (issue 13).

`id` is the row's public id (a UUID), and every foreign key the API reads or writes (owner, lead,
contact, company, deal, ...) is the related row's public id, looked up in the caller's workspace.
Integer primary keys stay inside the database. A model without a public id (a channel) keeps DRF's
primary key field.
"""

from rest_framework import serializers

from .fields import PublicIdField, PublicIdRelatedField, has_public_id


class PublicIdModelSerializer(serializers.ModelSerializer):
    serializer_related_field = PublicIdRelatedField

    def build_field(self, field_name, info, model_class, nested_depth):
        if field_name == "id" and has_public_id(model_class):
            return PublicIdField, {}
        return super().build_field(field_name, info, model_class, nested_depth)

    def build_relational_field(self, field_name, relation_info):
        field_class, field_kwargs = super().build_relational_field(field_name, relation_info)
        if field_class is PublicIdRelatedField and not has_public_id(relation_info.related_model):
            field_class = serializers.PrimaryKeyRelatedField
        return field_class, field_kwargs
